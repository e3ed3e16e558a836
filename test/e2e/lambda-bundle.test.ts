import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import example from "../../examples/support-desk/app";
import type { FunctionUrlEvent, FunctionUrlResult } from "../../runtime/serverless/lambda";
import { PodServer } from "../../runtime/pod/pod-server";
import {
  bundleHandlers,
  bundleRuntime,
  bundleRuntimeTracing,
  RUNTIME_LAYER_PATH,
  RUNTIME_TRACING_PATH,
} from "../../providers/shared/bundle";
import { exampleModelPod } from "../support/example-model-pod";
import { useTestCredentials, verifySigv4 } from "../support/sigv4";

const event = (body: string): FunctionUrlEvent => ({
  rawPath: "/",
  headers: { "content-type": "application/json" },
  body,
  requestContext: { requestId: "req-1", http: { method: "POST" } },
});

/** What Lambda's Node runtime runs for one event: the function's `index.handler`, the layer on NODE_PATH. */
const INVOKE = `const { handler } = require(process.argv[1]);
handler(JSON.parse(process.argv[2])).then((result) => process.stdout.write(JSON.stringify(result)));`;

/**
 * Lays out a function package and the runtime layer (its module and its tracing module) as
 * Lambda does (`/var/task` and `/opt`), and returns an invoker that runs one event in a fresh
 * Node process whose NODE_PATH is the layer's `nodejs/node_modules`, as Lambda's is.
 */
function deploy(
  functionSource: string,
  runtimeSource: string,
  tracingSource: string,
): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  const root = mkdtempSync(join(tmpdir(), "cloudloom-lambda-"));
  const layerFile = join(root, "opt", RUNTIME_LAYER_PATH);
  mkdirSync(dirname(layerFile), { recursive: true });
  writeFileSync(layerFile, runtimeSource);
  writeFileSync(join(root, "opt", RUNTIME_TRACING_PATH), tracingSource);
  mkdirSync(join(root, "task"));
  writeFileSync(join(root, "task/index.js"), functionSource);
  return async (event) => {
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", INVOKE, join(root, "task/index.js"), JSON.stringify(event)], {
      env: { ...process.env, NODE_OPTIONS: "", NODE_PATH: join(root, "opt/nodejs/node_modules") },
    });
    return JSON.parse(stdout);
  };
}

describe("AWS Lambda: the bundled handler on the cloudloom runtime layer (real sockets, a process per invocation)", () => {
  const spec = example.toSpec({ target: "aws" });
  const verdicts: boolean[] = [];
  /** The traceparent of each model call the front passed on. */
  const modelTraceparents: unknown[] = [];
  let modelServer: PodServer;
  let signedFront: Server;
  let restoreCredentials: () => void;
  let source: string;
  let invoke: (event: FunctionUrlEvent) => Promise<FunctionUrlResult>;

  before(async () => {
    restoreCredentials = useTestCredentials();
    modelServer = new PodServer({ ...exampleModelPod("aws"), logger: pino({ level: "silent" }) });
    const modelPort = (await modelServer.listen(0)).port;
    // An IAM-authenticated front (as API Gateway is): verify the signature, then pass the call on.
    signedFront = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks);
        const valid = verifySigv4(req, body, "execute-api", "eu-west-1");
        verdicts.push(valid);
        modelTraceparents.push(req.headers.traceparent);
        if (!valid) return void res.writeHead(403).end();
        const answer = await fetch(`http://127.0.0.1:${modelPort}/_cloudloom/models/intent%401`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        res.writeHead(answer.status, { "content-type": "application/json" }).end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => signedFront.listen(0, "127.0.0.1", resolve));
    const frontPort = (signedFront.address() as { port: number }).port;
    process.env.CLOUDLOOM_RUNTIME = JSON.stringify({
      region: "central",
      models: {
        intent: {
          key: "intent@1",
          version: "1",
          endpoint: {
            url: `http://127.0.0.1:${frontPort}/models/intent-v1`,
            exact: true,
            sigv4: { service: "execute-api", region: "eu-west-1" },
          },
        },
      },
      env: ["LOG_LEVEL"],
    });
    source = (await bundleHandlers(example.root, { classify: spec.functions.classify }, "lambda")).classify;
    invoke = deploy(source, await bundleRuntime(), await bundleRuntimeTracing());
  });
  after(async () => {
    delete process.env.CLOUDLOOM_RUNTIME;
    restoreCredentials();
    await new Promise((resolve) => signedFront.close(resolve));
    await modelServer.close();
  });

  it("holds the handler and its own imports, and requires only the runtime layer's module", () => {
    assert.deepEqual(source.match(/require\(["'][^"']+["']\)/g), ['require("cloudloom-runtime")']);
    assert.ok(source.length < 8_000, `the function's package is ${source.length} bytes; the runtime lives in the layer`);
  });

  it("serves a Function URL event: the handler's model call is SigV4-signed and answered by the real model", async () => {
    const result = await invoke(event(JSON.stringify({ message: "my card was charged twice, refund please" })));
    assert.equal(result.statusCode, 200);
    const body = JSON.parse(result.body);
    assert.equal(body.intent, "billing");
    assert.equal(body.modelVersion, "1");
    assert.deepEqual(verdicts, [true], "one signed model call, accepted");
  });

  it("answers bad JSON with 400 and keeps the handler's own 4xx", async () => {
    assert.equal((await invoke(event("{not json"))).statusCode, 400);
    const empty = await invoke(event(JSON.stringify({ message: "" })));
    assert.equal(empty.statusCode, 400);
    assert.equal(JSON.parse(empty.body).error.code, "BAD_MESSAGE");
  });

  it("reads its secrets from Secrets Manager once at cold start, and fails naming the secret's ARN when it cannot", async () => {
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:support-desk-fn-classify-central-secrets-AbCdEf";
    const targets: unknown[] = [];
    let denied = false;
    const secretsManager = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        targets.push([req.headers["x-amz-target"], JSON.parse(body).SecretId, /^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? "")]);
        if (denied) return void res.writeHead(400).end(JSON.stringify({ __type: "AccessDeniedException" }));
        res.writeHead(200).end(JSON.stringify({ ARN: arn, SecretString: JSON.stringify({ CRM_TOKEN: "from-secrets-manager" }) }));
      });
    });
    await new Promise<void>((resolve) => secretsManager.listen(0, "127.0.0.1", resolve));
    process.env.CLOUDLOOM_SECRETS_ARN = arn;
    process.env.CLOUDLOOM_SECRETS_ENDPOINT = `http://127.0.0.1:${(secretsManager.address() as { port: number }).port}`;
    try {
      const result = await invoke(event(JSON.stringify({ message: "my card was charged twice, refund please" })));
      assert.equal(result.statusCode, 200);
      assert.deepEqual(targets, [["secretsmanager.GetSecretValue", arn, true]]);
      denied = true;
      await assert.rejects(invoke(event("{}")), (error: Error) =>
        error.message.includes(
          `Secrets Manager secret ${arn} (CLOUDLOOM_SECRETS_ARN): GetSecretValue answered HTTP 400 AccessDeniedException`,
        ),
      );
    } finally {
      delete process.env.CLOUDLOOM_SECRETS_ARN;
      delete process.env.CLOUDLOOM_SECRETS_ENDPOINT;
      await new Promise((resolve) => secretsManager.close(resolve));
    }
  });

  it("traces an invocation from the layer's tracing module when OTEL_* names an endpoint, its model call carrying the span", async () => {
    const exports: string[] = [];
    const collector = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        exports.push(body);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    const traceId = "e2b0d0a3c8a84c7e9b1d1f5a6c7b8e9f";
    try {
      const traced = { ...event(JSON.stringify({ message: "my card was charged twice, refund please" })) };
      traced.headers = { ...traced.headers, traceparent: `00-${traceId}-1f2e3d4c5b6a7980-01` };
      modelTraceparents.length = 0;
      assert.equal((await invoke(traced)).statusCode, 200);
      // Exported before the invocation returned (the process has exited since).
      const spans = exports.flatMap((body) =>
        JSON.parse(body).resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans)),
      );
      const fn = spans.find((span: any) => span.name === "runtime.function");
      assert.deepEqual([fn?.traceId, fn?.parentSpanId], [traceId, "1f2e3d4c5b6a7980"]);
      assert.deepEqual(modelTraceparents, [`00-${traceId}-${fn.spanId}-01`], "the model call carries the function's span");
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      await new Promise((resolve) => collector.close(resolve));
    }
    modelTraceparents.length = 0;
    assert.equal((await invoke(event(JSON.stringify({ message: "refund please" })))).statusCode, 200);
    assert.deepEqual(modelTraceparents, [undefined], "untraced, the model call carries no traceparent");
  });

  it("fails at load with the variable and field named when CLOUDLOOM_RUNTIME is wrong", async () => {
    const saved = process.env.CLOUDLOOM_RUNTIME;
    process.env.CLOUDLOOM_RUNTIME = JSON.stringify({ region: "central", models: {}, env: "LOG_LEVEL" });
    try {
      await assert.rejects(invoke(event("{}")), /CLOUDLOOM_RUNTIME\.env: Expected array/);
    } finally {
      process.env.CLOUDLOOM_RUNTIME = saved;
    }
  });
});
