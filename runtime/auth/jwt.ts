/**
 * Short-lived RS256 JSON Web Tokens for backends behind JWT auth (Alibaba
 * Cloud Function Compute HTTP triggers with `authType: "jwt"`, which verify
 * them against the trigger's JWKS). Tokens are minted with node:crypto and
 * reused until shortly before they expire.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import type { JwtAuth } from "../../sdk/spec";

/** Lifetime of a minted token. */
const TOKEN_SECONDS = 300;
/** A cached token is replaced this long before it expires. */
const REFRESH_BEFORE_SECONDS = 60;

const base64url = (value: Buffer | string) => Buffer.from(value).toString("base64url");

/** The key id both sides agree on: the RFC 7638 thumbprint of the public key (providers/shared/jwks.ts publishes it). */
function keyId(publicKey: KeyObject): string {
  const { e, kty, n } = publicKey.export({ format: "jwk" });
  return createHash("sha256").update(JSON.stringify({ e, kty, n })).digest("base64url");
}

/** Mints and caches tokens for one audience. */
export class JwtMinter {
  private readonly key: KeyObject;
  private readonly kid: string;
  private cached?: { token: string; refreshAt: number };

  constructor(
    privateKeyPem: string,
    private readonly auth: JwtAuth,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createPrivateKey(privateKeyPem);
    if (this.key.asymmetricKeyType !== "rsa") throw new Error("the JWT signing key must be an RSA private key (RS256)");
    this.kid = keyId(createPublicKey(this.key));
  }

  /** `Authorization: Bearer <token>`. */
  headers(): Record<string, string> {
    const seconds = Math.floor(this.now() / 1000);
    if (!this.cached || seconds >= this.cached.refreshAt) {
      const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: this.kid }));
      const payload = base64url(
        JSON.stringify({ iss: this.auth.issuer, aud: this.auth.audience, iat: seconds, nbf: seconds - 30, exp: seconds + TOKEN_SECONDS }),
      );
      const signature = sign("sha256", Buffer.from(`${header}.${payload}`), this.key).toString("base64url");
      this.cached = { token: `${header}.${payload}.${signature}`, refreshAt: seconds + TOKEN_SECONDS - REFRESH_BEFORE_SECONDS };
    }
    return { authorization: `Bearer ${this.cached.token}` };
  }
}
