/**
 * How the gateway (and a function calling its models) authenticates to a
 * backend that is not reachable anonymously: SigV4 for AWS IAM, a minted JWT
 * for Alibaba Cloud FC. SigV4 credentials come from the AWS environment
 * variables, else from the container credentials endpoint (ECS task roles,
 * EKS Pod Identity); the JWT key from the environment. A missing one refuses
 * startup, naming the variables; credentials that cannot be fetched fail the
 * call as a BAD_GATEWAY (the cause, naming the variable and URL, goes to the log).
 */
import type { Endpoint } from "../../sdk/spec";
import { RUNTIME_ENV, ServingError, type BackendAuth } from "../contract";
import { CONTAINER_ENV, credentialSourceFromEnv, type CredentialSource } from "./credentials";
import { JwtMinter } from "./jwt";
import { sigv4Headers, type AwsCredentials } from "./sigv4";

/** Credentials for one signature, or a ServingError that the gateway answers 502 (with the cause for the log). */
async function credentialsFor(source: CredentialSource, url: string): Promise<AwsCredentials> {
  try {
    return await source.get();
  } catch (error) {
    const failure = new ServingError("BAD_GATEWAY", "the gateway could not get the credentials to sign its call to the backend");
    failure.cause = new Error(`SigV4 credentials for ${url}: ${(error as Error).message}`);
    throw failure;
  }
}

/** The authentication an endpoint needs, or undefined for a plain one. */
export function authFor(endpoint: Endpoint, env: NodeJS.ProcessEnv = process.env): BackendAuth | undefined {
  if (typeof endpoint === "string") return undefined;
  if (endpoint.sigv4) {
    const signing = endpoint.sigv4;
    const source = credentialSourceFromEnv(env);
    if (!source)
      throw new Error(
        `endpoint ${endpoint.url} needs SigV4 signing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) for the gateway, ` +
          `or run it where a container credentials endpoint is configured (${CONTAINER_ENV.relativeUri}, or ${CONTAINER_ENV.fullUri} ` +
          `with ${CONTAINER_ENV.tokenFile} or ${CONTAINER_ENV.token})`,
      );
    const url = endpoint.url;
    return async (request) => sigv4Headers(signing, request, await credentialsFor(source, url));
  }
  if (endpoint.jwt) {
    const key = env[RUNTIME_ENV.jwtPrivateKey];
    if (!key)
      throw new Error(
        `endpoint ${endpoint.url} needs a JWT: set ${RUNTIME_ENV.jwtPrivateKey} to the PEM of the key whose public half the stack configured (cloudloom:jwtPrivateKey)`,
      );
    const minter = new JwtMinter(key, endpoint.jwt);
    return async () => minter.headers();
  }
  return undefined;
}
