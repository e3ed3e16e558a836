import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import pino from "pino";
import { publicJwks } from "../../providers/shared/jwks";
import { JwtMinter } from "../../runtime/auth/jwt";
import { PodServer } from "../../runtime/pod/pod-server";
import { jwtRequirementFromEnv } from "../../runtime/pod/require-jwt";
import { exampleModelPod } from "../support/example-model-pod";

const pem = (): string =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

describe("A model pod reachable from outside its cluster: only the gateway's JWT gets in (real sockets, real ONNX)", () => {
  const gatewayKey = pem();
  const audience = "support-desk-intent-v1-central";
  let server: PodServer;
  let base: string;

  before(async () => {
    const scoped = exampleModelPod("alicloud");
    const jwt = jwtRequirementFromEnv({
      CLOUDLOOM_JWT_JWKS: JSON.stringify(publicJwks(gatewayKey)),
      CLOUDLOOM_JWT_ISSUER: "cloudloom",
      CLOUDLOOM_JWT_AUDIENCE: audience,
    });
    server = new PodServer({ ...scoped, jwt, logger: pino({ level: "silent" }) });
    base = `http://127.0.0.1:${(await server.listen(0)).port}`;
  });
  after(() => server.close());

  const predict = (headers: Record<string, string> = {}) => {
    const features = new Array(512).fill(0);
    features[3] = 1;
    return fetch(`${base}/_cloudloom/models/intent%401`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ inputs: { features } }),
    });
  };

  it("answers a call with the gateway's token for this pod", async () => {
    const res = await predict(new JwtMinter(gatewayKey, { issuer: "cloudloom", audience }).headers());
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).outputs.probabilities.length, 5);
  });

  it("refuses a call without a token with 401 and a Bearer challenge", async () => {
    const res = await predict();
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="cloudloom"');
    assert.equal(((await res.json()) as any).error.code, "UNAUTHORIZED");
  });

  it("refuses a token for another audience, and one signed by another key", async () => {
    const otherAudience = await predict(new JwtMinter(gatewayKey, { issuer: "cloudloom", audience: "another-model" }).headers());
    assert.equal(otherAudience.status, 401);
    assert.match(((await otherAudience.json()) as any).error.message, /aud/);
    const otherKey = await predict(new JwtMinter(pem(), { issuer: "cloudloom", audience }).headers());
    assert.equal(otherKey.status, 401);
  });

  it("keeps the probes open to the kubelet", async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it("names the variable when the pod's JWT settings are wrong", () => {
    assert.equal(jwtRequirementFromEnv({}), undefined, "no JWKS: no requirement (a ClusterIP pod)");
    assert.throws(() => jwtRequirementFromEnv({ CLOUDLOOM_JWT_JWKS: "{nope" }), /CLOUDLOOM_JWT_JWKS is not JSON/);
    assert.throws(() => jwtRequirementFromEnv({ CLOUDLOOM_JWT_JWKS: '{"keys":[]}' }), /CLOUDLOOM_JWT_JWKS must be a JWKS/);
    assert.throws(
      () => jwtRequirementFromEnv({ CLOUDLOOM_JWT_JWKS: JSON.stringify(publicJwks(gatewayKey)) }),
      /CLOUDLOOM_JWT_ISSUER and CLOUDLOOM_JWT_AUDIENCE must be set/,
    );
  });
});
