/**
 * JWT auth for a pod that is reachable from outside its cluster (a model on
 * an ACK node pool behind a load balancer): every call must carry the
 * gateway's RS256 token for this pod's audience, checked against the public
 * JWKS the stack gave the pod (jose). Probes and metrics stay open to the
 * cluster; only the serving path is guarded.
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { z } from "zod";
import { JWT_ENV, ServingError } from "../contract";

const CHALLENGE = { "www-authenticate": 'Bearer realm="cloudloom"' };

/** What the pod accepts: tokens signed by a key of `jwks`, issued by `issuer`, for `audience`. */
export interface JwtRequirement {
  jwks: JSONWebKeySet;
  issuer: string;
  audience: string;
}

const JwksSchema = z.object({ keys: z.array(z.object({ kty: z.string() }).passthrough()).min(1) });

/**
 * The pod's JWT requirement from its environment, or undefined when it has
 * none; throws naming the variable when one is set but wrong.
 */
export function jwtRequirementFromEnv(env: NodeJS.ProcessEnv): JwtRequirement | undefined {
  const raw = env[JWT_ENV.jwks];
  if (raw === undefined) return undefined;
  let jwks: unknown;
  try {
    jwks = JSON.parse(raw);
  } catch {
    throw new Error(`${JWT_ENV.jwks} is not JSON; the stack sets it to the public JWKS of the gateway's key`);
  }
  if (!JwksSchema.safeParse(jwks).success) throw new Error(`${JWT_ENV.jwks} must be a JWKS: { "keys": [ { "kty": "RSA", ... } ] }`);
  const issuer = env[JWT_ENV.issuer];
  const audience = env[JWT_ENV.audience];
  if (!issuer || !audience) throw new Error(`${JWT_ENV.jwks} is set, so ${JWT_ENV.issuer} and ${JWT_ENV.audience} must be set too`);
  return { jwks: jwks as JSONWebKeySet, issuer, audience };
}

/** Middleware that passes only requests with a valid `Authorization: Bearer` token. */
export function requireJwt(requirement: JwtRequirement): RequestHandler {
  const keys = createLocalJWKSet(requirement.jwks);
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = /^Bearer (.+)$/i.exec(req.get("authorization") ?? "")?.[1];
    if (!token) return next(new ServingError("UNAUTHORIZED", "this endpoint needs the gateway's bearer token", CHALLENGE));
    jwtVerify(token, keys, { issuer: requirement.issuer, audience: requirement.audience, algorithms: ["RS256"] }).then(
      () => next(),
      (error: Error) => next(new ServingError("UNAUTHORIZED", `the bearer token was refused: ${error.message}`, CHALLENGE)),
    );
  };
}
