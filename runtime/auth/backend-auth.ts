/**
 * How the gateway (and a function calling its models) authenticates to a
 * backend that is not reachable anonymously: SigV4 for AWS IAM, a minted JWT
 * for Alibaba Cloud FC. Credentials come from the environment; a missing
 * one refuses startup, naming the variables.
 */
import type { Endpoint } from "../../sdk/spec";
import { RUNTIME_ENV, type BackendAuth } from "../contract";
import { JwtMinter } from "./jwt";
import { credentialsFromEnv, sigv4Headers } from "./sigv4";

/** The authentication an endpoint needs, or undefined for a plain one. */
export function authFor(endpoint: Endpoint, env: NodeJS.ProcessEnv = process.env): BackendAuth | undefined {
  if (typeof endpoint === "string") return undefined;
  if (endpoint.sigv4) {
    const signing = endpoint.sigv4;
    const credentials = credentialsFromEnv(env);
    if (!credentials)
      throw new Error(
        `endpoint ${endpoint.url} needs SigV4 signing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) for the gateway`,
      );
    return (request) => sigv4Headers(signing, request, credentials);
  }
  if (endpoint.jwt) {
    const key = env[RUNTIME_ENV.jwtPrivateKey];
    if (!key)
      throw new Error(
        `endpoint ${endpoint.url} needs a JWT: set ${RUNTIME_ENV.jwtPrivateKey} to the PEM of the key whose public half the stack configured (cloudloom:jwtPrivateKey)`,
      );
    const minter = new JwtMinter(key, endpoint.jwt);
    return () => minter.headers();
  }
  return undefined;
}
