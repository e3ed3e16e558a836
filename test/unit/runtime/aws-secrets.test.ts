import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import aws4 from "aws4";
import { readFunctionSecrets, secretRegion, secretsManagerUrl } from "../../../runtime/serverless/aws-secrets";
import { lambdaHandler, type FunctionUrlEvent } from "../../../runtime/serverless/lambda";
import { TEST_CREDENTIALS, useTestCredentials } from "../../support/sigv4";
import { StubUpstream } from "../../support/upstream";

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:support-desk-fn-classify-central-secrets-AbCdEf";
const VALUE = "crm-token-value-never-logged";

/**
 * Verifies SigV4 as AWS does, with TEST_CREDENTIALS from test/support/sigv4.ts, over the headers the call
 * signed (X-Amz-Target included: Secrets Manager's JSON protocol requires it signed).
 */
function verify(req: IncomingMessage, body: string): boolean {
  const check = {
    host: req.headers.host,
    path: req.url,
    method: req.method,
    service: "secretsmanager",
    region: "eu-west-1",
    body,
    headers: {
      "content-type": req.headers["content-type"] as string,
      "X-Amz-Target": req.headers["x-amz-target"] as string,
      "X-Amz-Date": req.headers["x-amz-date"] as string,
    },
  };
  aws4.sign(check, TEST_CREDENTIALS);
  const authorization = (check.headers as Record<string, string>).Authorization;
  return (
    authorization === req.headers.authorization &&
    /SignedHeaders=[^,]*x-amz-target/.test(authorization) &&
    req.headers["x-amz-security-token"] === TEST_CREDENTIALS.sessionToken
  );
}

const event: FunctionUrlEvent = { rawPath: "/", body: "{}", requestContext: { requestId: "r1", http: { method: "POST" } } };

describe("AWS Lambda secrets: read from Secrets Manager at cold start (a stub Secrets Manager on 127.0.0.1)", () => {
  let server: Server;
  let endpoint: string;
  let restore: () => void;
  const calls: Array<{ target: unknown; body: unknown; valid: boolean }> = [];
  let answer: (res: import("node:http").ServerResponse) => void;
  const ok = (secretString: string) => (res: import("node:http").ServerResponse) =>
    res
      .writeHead(200, { "content-type": "application/x-amz-json-1.1" })
      .end(JSON.stringify({ ARN, Name: "x", SecretString: secretString, VersionId: "v1" }));

  before(async () => {
    restore = useTestCredentials();
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const valid = verify(req, body);
        calls.push({ target: req.headers["x-amz-target"], body: JSON.parse(body), valid });
        if (!valid) return void res.writeHead(403).end(JSON.stringify({ __type: "InvalidSignatureException" }));
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  beforeEach(() => {
    calls.length = 0;
    answer = ok(JSON.stringify({ CRM_TOKEN: VALUE }));
  });
  after(async () => {
    restore();
    await new Promise((resolve) => server.close(resolve));
  });
  const env = () => ({ ...process.env, CLOUDLOOM_SECRETS_ENDPOINT: endpoint, CLOUDLOOM_SECRETS_ARN: ARN, LOG_LEVEL: "info" });

  it("knows the secret's region and the regional endpoint", () => {
    assert.equal(secretRegion(ARN), "eu-west-1");
    assert.equal(secretRegion("not-an-arn"), undefined);
    assert.equal(secretsManagerUrl("eu-west-1", {}).href, "https://secretsmanager.eu-west-1.amazonaws.com/");
    assert.equal(secretsManagerUrl("eu-west-1", { CLOUDLOOM_SECRETS_ENDPOINT: "http://127.0.0.1:9" }).href, "http://127.0.0.1:9/");
  });

  it("calls GetSecretValue for exactly the ARN, SigV4-signed with the function's credentials", async () => {
    assert.deepEqual(await readFunctionSecrets(ARN, env()), { CRM_TOKEN: VALUE });
    assert.deepEqual(calls, [{ target: "secretsmanager.GetSecretValue", body: { SecretId: ARN }, valid: true }]);
  });

  it("reads once at cold start and gives the handler the secrets in ctx.env, as plain variables", async () => {
    const seen: unknown[] = [];
    const serve = lambdaHandler(
      async (_request, ctx) => {
        seen.push(ctx.env);
        return { ok: true };
      },
      { region: "central", models: {}, env: ["CRM_TOKEN", "LOG_LEVEL"] },
      env(),
    );
    assert.equal((await serve(event)).statusCode, 200);
    assert.equal((await serve(event)).statusCode, 200);
    assert.deepEqual(seen, [
      { CRM_TOKEN: VALUE, LOG_LEVEL: "info" },
      { CRM_TOKEN: VALUE, LOG_LEVEL: "info" },
    ]);
    assert.equal(calls.length, 1, "one GetSecretValue per cold start");
  });

  it("traces once the secrets are read, exporting with the collector headers they hold, which ctx.env never shows", async () => {
    const collector = await new StubUpstream("collector").start();
    try {
      answer = ok(JSON.stringify({ CRM_TOKEN: VALUE, OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=k%2C1%3Dsecret" }));
      const seen: unknown[] = [];
      const serve = lambdaHandler(
        async (_request, ctx) => {
          seen.push(ctx.env);
          return { ok: true };
        },
        { region: "central", models: {}, env: ["CRM_TOKEN"] },
        { ...env(), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`, AWS_LAMBDA_FUNCTION_NAME: "fn" },
      );
      assert.equal((await serve(event)).statusCode, 200);
      assert.equal((await serve(event)).statusCode, 200);
      // Each invocation's span is exported before it returns.
      assert.deepEqual(
        collector.received.map(({ path, headers }) => [path, headers["x-collector-key"]]),
        [
          ["/v1/traces", "k,1=secret"],
          ["/v1/traces", "k,1=secret"],
        ],
      );
      assert.deepEqual(seen, [{ CRM_TOKEN: VALUE }, { CRM_TOKEN: VALUE }]);
      assert.equal(calls.length, 1, "one GetSecretValue per cold start, tracing included");
    } finally {
      await collector.kill();
    }
  });

  it("fails the invocation with a cold-start error naming the ARN, never a value, and tries again on the next", async () => {
    answer = (res) =>
      res.writeHead(400).end(JSON.stringify({ __type: "AccessDeniedException", message: "not authorized to perform GetSecretValue" }));
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    let serve;
    try {
      serve = lambdaHandler(async (_request, ctx) => ctx.env, { region: "central", models: {}, env: ["CRM_TOKEN"] }, env());
      await assert.rejects(
        serve(event),
        (error: Error) =>
          error.message ===
          `cloudloom could not read the function's secrets from Secrets Manager secret ${ARN} (CLOUDLOOM_SECRETS_ARN): GetSecretValue answered HTTP 400 AccessDeniedException; the function's role must allow secretsmanager:GetSecretValue on exactly this secret`,
      );
    } finally {
      console.error = original;
    }
    assert.equal(errors.length, 1);
    assert.ok(errors[0].includes(ARN));
    answer = ok(JSON.stringify({ CRM_TOKEN: VALUE }));
    const result = await serve(event);
    assert.deepEqual(JSON.parse(result.body), { CRM_TOKEN: VALUE });
  });

  it("names the ARN, and no value, when the secret is malformed or Secrets Manager cannot be reached", async () => {
    answer = ok(JSON.stringify({ CRM_TOKEN: 42, OTHER: VALUE }));
    await assert.rejects(readFunctionSecrets(ARN, env()), (error: Error) => {
      assert.match(error.message, new RegExp(`secret ${ARN} .*its variable CRM_TOKEN is not a string`));
      assert.ok(!error.message.includes(VALUE));
      return true;
    });
    answer = ok(`not json ${VALUE}`);
    await assert.rejects(readFunctionSecrets(ARN, env()), (error: Error) => !error.message.includes(VALUE) && error.message.includes(ARN));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      readFunctionSecrets(ARN, { ...env(), CLOUDLOOM_SECRETS_ENDPOINT: `http://127.0.0.1:${port}` }),
      new RegExp(`secret ${ARN} \\(CLOUDLOOM_SECRETS_ARN\\): GetSecretValue at http://127.0.0.1:${port} failed: ECONNREFUSED`),
    );
    await assert.rejects(
      readFunctionSecrets(ARN, { CLOUDLOOM_SECRETS_ENDPOINT: endpoint }),
      new RegExp(`secret ${ARN} .*no AWS credentials`),
    );
  });

  it("reads nothing without CLOUDLOOM_SECRETS_ARN (plain variables only, as on Function Compute)", async () => {
    const serve = lambdaHandler(
      async (_request, ctx) => ctx.env,
      { region: "central", models: {}, env: ["LOG_LEVEL"] },
      { LOG_LEVEL: "debug" },
    );
    assert.deepEqual(JSON.parse((await serve(event)).body), { LOG_LEVEL: "debug" });
    assert.equal(calls.length, 0);
  });
});
