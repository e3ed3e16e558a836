/**
 * The public JWKS a JWT-guarded backend (an FC trigger, an ACK model pod)
 * verifies the gateway's tokens with, derived from the gateway's private key
 * in stack config. Its `kid` is the RFC 7638 thumbprint, which is also how
 * the gateway's minter names the key (test/e2e/gateway-jwt.test.ts holds the
 * two to it).
 */
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";

/** The public JWKS of the private key's PEM. */
export function publicJwks(privateKeyPem: string): { keys: Array<Record<string, unknown>> } {
  const jwk = createPublicKey(createPrivateKey(privateKeyPem)).export({ format: "jwk" });
  const kid = createHash("sha256")
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest("base64url");
  return { keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] };
}
