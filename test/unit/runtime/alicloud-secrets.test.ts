import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import { ALICLOUD_SECRETS_ENV, RUNTIME_ENV } from "../../../runtime/contract";
import {
  getSecretValue,
  kmsEndpointFromEnv,
  loadAlicloudSecrets,
  resolveAlicloudSecrets,
} from "../../../runtime/serverless/alicloud-secrets";
import { fcHandler } from "../../../runtime/serverless/fc";

const PEM = "-----BEGIN PRIVATE KEY-----\nstub\n-----END PRIVATE KEY-----\n";
const CREDENTIALS = { id: "STS.stub-id", secret: "stub-secret", token: "stub-token" };

/** A stand-in for KMS: checks the RPC signature independently (the Alibaba SDK's own), answers GetSecretValue. */
class KmsStub {
  server!: Server;
  calls: Array<Record<string, string>> = [];
  secrets = new Map<string, string>([["app-central-jwt-private-key", PEM]]);
  failNext = 0;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url!, "http://stub");
      const params = Object.fromEntries(url.searchParams);
      this.calls.push(params);
      const { Signature, ...signed } = params;
      const expected = $OpenApiUtil.default.getRPCSignature(signed, req.method!, CREDENTIALS.secret);
      const reply = (status: number, body: object) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (this.failNext > 0) {
        this.failNext--;
        return reply(503, { Code: "ServiceUnavailable", Message: "try later" });
      }
      if (Signature !== expected) return reply(400, { Code: "IncompleteSignature", Message: "signature mismatch" });
      if (params.SecurityToken !== CREDENTIALS.token) return reply(403, { Code: "InvalidSecurityToken.Expired" });
      const data = this.secrets.get(params.SecretName);
      if (!data) return reply(404, { Code: "Forbidden.ResourceNotFound", Message: "no such secret" });
      reply(200, { SecretName: params.SecretName, SecretData: data, SecretDataType: "text", VersionId: "v-1", RequestId: "r-1" });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe("Alibaba Cloud secrets at cold start (KMS GetSecretValue against a stub)", () => {
  const kms = new KmsStub();
  let endpoint: string;
  const envFor = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    [RUNTIME_ENV.jwtPrivateKeySecret]: "app-central-jwt-private-key",
    [ALICLOUD_SECRETS_ENV.kmsEndpoint]: endpoint,
    [ALICLOUD_SECRETS_ENV.accessKeyId]: CREDENTIALS.id,
    [ALICLOUD_SECRETS_ENV.accessKeySecret]: CREDENTIALS.secret,
    [ALICLOUD_SECRETS_ENV.securityToken]: CREDENTIALS.token,
    ...extra,
  });

  before(async () => {
    endpoint = await kms.start();
  });
  after(() => kms.stop());
  beforeEach(() => {
    kms.calls = [];
    kms.failNext = 0;
  });

  it("calls GetSecretValue (RPC, 2016-01-20) signed with FC's STS credentials, and returns the value", async () => {
    const value = await getSecretValue("app-central-jwt-private-key", {
      endpoint,
      credentials: { accessKeyId: CREDENTIALS.id, accessKeySecret: CREDENTIALS.secret, securityToken: CREDENTIALS.token },
    });
    assert.equal(value, PEM);
    assert.equal(kms.calls.length, 1);
    const call = kms.calls[0];
    assert.deepEqual(
      [call.Action, call.Version, call.Format, call.SecretName, call.AccessKeyId, call.SignatureMethod, call.SignatureVersion],
      ["GetSecretValue", "2016-01-20", "JSON", "app-central-jwt-private-key", CREDENTIALS.id, "HMAC-SHA1", "1.0"],
    );
    assert.match(call.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("fills CLOUDLOOM_JWT_PRIVATE_KEY from the named secret, in a copy of the environment", async () => {
    const env = envFor();
    const resolved = await resolveAlicloudSecrets(env);
    assert.equal(resolved[RUNTIME_ENV.jwtPrivateKey], PEM);
    assert.equal(env[RUNTIME_ENV.jwtPrivateKey], undefined, "the given environment is not changed");
    await loadAlicloudSecrets(env);
    assert.equal(env[RUNTIME_ENV.jwtPrivateKey], PEM, "loadAlicloudSecrets fills the environment itself (the gateway's process.env)");
  });

  it("fills each declared secret of CLOUDLOOM_KMS_SECRETS too, and refuses a map that is not one", async () => {
    kms.secrets.set("app-central-secret-crm-token", "crm-value");
    const env = envFor({ [RUNTIME_ENV.kmsSecrets]: JSON.stringify({ CRM_TOKEN: "app-central-secret-crm-token" }) });
    const resolved = await resolveAlicloudSecrets(env);
    assert.deepEqual([resolved.CRM_TOKEN, resolved[RUNTIME_ENV.jwtPrivateKey]], ["crm-value", PEM]);
    assert.deepEqual(kms.calls.map((c) => c.SecretName).sort(), ["app-central-jwt-private-key", "app-central-secret-crm-token"]);
    await assert.rejects(
      resolveAlicloudSecrets(envFor({ [RUNTIME_ENV.kmsSecrets]: "[1]" })),
      /CLOUDLOOM_KMS_SECRETS is not a JSON object of variable to KMS secret name/,
    );
  });

  it("leaves an environment alone that names no secret, or already has the key (local runs)", async () => {
    const plain = { PATH: "/bin" };
    assert.equal(await resolveAlicloudSecrets(plain), plain);
    const local = envFor({ [RUNTIME_ENV.jwtPrivateKey]: "local" });
    assert.equal(await resolveAlicloudSecrets(local), local);
    assert.equal(kms.calls.length, 0);
  });

  it("refuses, naming the variables, without credentials or a region, and names KMS's error code and the role when KMS refuses", async () => {
    await assert.rejects(
      resolveAlicloudSecrets(envFor({ [ALICLOUD_SECRETS_ENV.accessKeyId]: "" })),
      /ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set/,
    );
    await assert.rejects(
      resolveAlicloudSecrets(envFor({ [ALICLOUD_SECRETS_ENV.kmsEndpoint]: "" })),
      /no region is known: set CLOUDLOOM_ALICLOUD_REGION/,
    );
    await assert.rejects(
      resolveAlicloudSecrets(envFor({ [RUNTIME_ENV.jwtPrivateKeySecret]: "other-secret" })),
      /KMS GetSecretValue other-secret .* failed \(HTTP 404 Forbidden\.ResourceNotFound: no such secret\); the function's RAM role must allow kms:GetSecretValue/,
    );
    await assert.rejects(
      resolveAlicloudSecrets(envFor({ [ALICLOUD_SECRETS_ENV.accessKeySecret]: "wrong" })),
      /HTTP 400 IncompleteSignature/,
    );
  });

  it("defaults to the region's public KMS endpoint (the stack's region, else FC's)", () => {
    assert.equal(kmsEndpointFromEnv({ [ALICLOUD_SECRETS_ENV.region]: "eu-central-1" }), "https://kms.eu-central-1.aliyuncs.com");
    assert.equal(kmsEndpointFromEnv({ FC_REGION: "cn-hangzhou" }), "https://kms.cn-hangzhou.aliyuncs.com");
    assert.equal(kmsEndpointFromEnv({ [ALICLOUD_SECRETS_ENV.kmsEndpoint]: "http://127.0.0.1:1/" }), "http://127.0.0.1:1");
    assert.equal(kmsEndpointFromEnv({}), undefined);
  });

  describe("the FC adapter", () => {
    const event = (path = "/") =>
      Buffer.from(
        JSON.stringify({ rawPath: path, headers: {}, body: "{}", requestContext: { requestId: "req-1", http: { method: "POST" } } }),
      );
    const config = { region: "central", models: {}, env: [] };

    it("reads the secret once, at the first event, before the handler runs", async () => {
      const env = envFor();
      let seen: string | undefined;
      const handle = fcHandler(
        async () => {
          seen = env[RUNTIME_ENV.jwtPrivateKey];
          return { ok: true };
        },
        config,
        env,
      );
      assert.equal(kms.calls.length, 0, "nothing is read before the first event");
      const first = await handle(event());
      const second = await handle(event());
      assert.deepEqual([first.statusCode, JSON.parse(first.body), second.statusCode], [200, { ok: true }, 200]);
      assert.equal(seen, PEM);
      assert.equal(kms.calls.length, 1, "one read per instance");
    });

    it("hands the handler its declared secrets, read from KMS, in ctx.env", async () => {
      const env = envFor({ [RUNTIME_ENV.kmsSecrets]: JSON.stringify({ CRM_TOKEN: "app-central-secret-crm-token" }) });
      const handle = fcHandler(async (_request, ctx) => ({ token: ctx.env.CRM_TOKEN }), { ...config, env: ["CRM_TOKEN"] }, env);
      const result = await handle(event());
      assert.deepEqual(JSON.parse(result.body), { token: "crm-value" });
    });

    it("answers 500 when KMS fails, and reads again at the next event", async () => {
      const env = envFor();
      kms.failNext = 1;
      const handle = fcHandler(async () => ({ ok: true }), config, env);
      const saved = console.error;
      const logged: string[] = [];
      console.error = (line: string) => logged.push(line);
      try {
        const failed = await handle(event());
        assert.equal(failed.statusCode, 500);
        assert.equal(JSON.parse(failed.body).error.code, "FUNCTION_FAILED");
        assert.doesNotMatch(failed.body, /KMS/, "the cause goes to the log, not to the caller");
      } finally {
        console.error = saved;
      }
      assert.match(logged.join("\n"), /HTTP 503 ServiceUnavailable/);
      const retried = await handle(event());
      assert.equal(retried.statusCode, 200);
      assert.equal(env[RUNTIME_ENV.jwtPrivateKey], PEM);
      assert.equal(kms.calls.length, 2);
    });
  });
});
