import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import pino from "pino";
import { parseEndpoints, parseSettings } from "../../gateway/config";
import { composeGateway } from "../../cli/compose-gateway";
import type { Gateway } from "../../gateway/gateway";
import { publicJwks } from "../../providers/shared/jwks";
import { JwtMinter } from "../../runtime/auth/jwt";
import { RUNTIME_ENV } from "../../runtime/contract";
import { gatewaySpec, KEY_A, post } from "../support/gateway-app";
import { StubUpstream } from "../support/upstream";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const AUTH = { issuer: "cloudloom-gateway", audience: "support-desk-classify-central" };

/** Verifies a bearer token the way FC does: against the trigger's public JWKS (jose, an independent implementation). */
async function verify(authorization: string | undefined) {
  const { createLocalJWKSet, jwtVerify } = await import("jose");
  const token = String(authorization).replace(/^Bearer /, "");
  return jwtVerify(token, createLocalJWKSet(publicJwks(PEM) as never), { issuer: AUTH.issuer, audience: AUTH.audience });
}

describe("gateway: JWT to Function Compute triggers with JWT auth", () => {
  let upstream: StubUpstream;
  let gateway: Gateway;
  let base: string;
  const saved = process.env[RUNTIME_ENV.jwtPrivateKey];

  before(async () => {
    upstream = await new StubUpstream("fc").start();
    process.env[RUNTIME_ENV.jwtPrivateKey] = PEM;
    const spec = gatewaySpec();
    const endpoint = { url: upstream.url, jwt: AUTH };
    gateway = composeGateway({
      spec,
      settings: parseSettings({ apiKeys: [KEY_A] }),
      source: {
        kind: "remote",
        endpoints: { functions: Object.fromEntries(Object.keys(spec.functions).map((n) => [n, { central: endpoint }])), models: {} },
      },
      logger: pino({ level: "silent" }),
    }).gateway;
    base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
  });
  after(async () => {
    await gateway.close();
    await upstream.kill();
    if (saved === undefined) delete process.env[RUNTIME_ENV.jwtPrivateKey];
    else process.env[RUNTIME_ENV.jwtPrivateKey] = saved;
  });

  it("carries a short-lived RS256 token that the trigger's JWKS verifies, on streamed and cached routes", async () => {
    const streamed = await post(base, "/open", { q: 1 });
    const cached = await post(base, "/echo", { q: 2 }, KEY_A);
    assert.deepEqual([streamed.status, cached.status], [200, 200]);
    assert.equal(upstream.received.length, 2);
    for (const received of upstream.received) {
      const { payload, protectedHeader } = await verify(received.headers.authorization as string);
      assert.equal(protectedHeader.alg, "RS256");
      assert.equal(protectedHeader.kid, publicJwks(PEM).keys[0].kid);
      assert.ok(payload.exp! - payload.iat! <= 300, "tokens live five minutes at most");
    }
    assert.notEqual(upstream.received[0].headers.authorization, `Bearer ${KEY_A}`, "the client's key is never forwarded");
  });

  it("reuses a token until a minute before it expires, then mints a new one", () => {
    let now = 1_700_000_000_000;
    const minter = new JwtMinter(PEM, AUTH, () => now);
    const first = minter.headers().authorization;
    now += 239_000;
    assert.equal(minter.headers().authorization, first);
    now += 2_000;
    assert.notEqual(minter.headers().authorization, first);
  });

  it("refuses to start without the signing key, naming the variable", () => {
    delete process.env[RUNTIME_ENV.jwtPrivateKey];
    assert.throws(
      () =>
        composeGateway({
          spec: gatewaySpec(),
          settings: parseSettings({}),
          source: { kind: "remote", endpoints: { functions: { echo: { central: { url: upstream.url, jwt: AUTH } } }, models: {} } },
          logger: pino({ level: "silent" }),
        }),
      new RegExp(`set ${RUNTIME_ENV.jwtPrivateKey}`),
    );
    process.env[RUNTIME_ENV.jwtPrivateKey] = PEM;
  });

  it("rejects an endpoint that asks for both SigV4 and a JWT", () => {
    const spec = gatewaySpec();
    const both = { url: upstream.url, jwt: AUTH, sigv4: { service: "lambda", region: "eu-west-1" } };
    assert.throws(
      () => parseEndpoints({ functions: { echo: { central: both } }, models: {} }, spec, "endpoints.json"),
      /sigv4 or jwt, not both/,
    );
  });
});
