import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadScoped } from "../../cli/commands/serve";
import example from "../../examples/support-desk/app";
import type { FunctionUrlEvent, FunctionUrlResult } from "../../gateway/serverless/adapter";
import { PodServer } from "../../gateway/local/pod-server";
import { bundleHandlers } from "../../providers/shared/bundle";
import { useTestCredentials, verifySigv4 } from "../support/sigv4";

type LambdaHandler = (event: FunctionUrlEvent) => Promise<FunctionUrlResult>;

const event = (body: string): FunctionUrlEvent => ({
  rawPath: "/",
  headers: { "content-type": "application/json" },
  body,
  requestContext: { requestId: "req-1", http: { method: "POST" } },
});

/** Loads a bundle the way Lambda does: a fresh module from its own file. */
function loadBundle(source: string): { handler: LambdaHandler } {
  const file = join(mkdtempSync(join(tmpdir(), "cloudloom-lambda-")), "index.js");
  writeFileSync(file, source);
  return require(file);
}

describe("AWS Lambda: the bundled handler with the cloudloom adapter (real sockets)", () => {
  const spec = example.toSpec({ target: "aws" });
  const verdicts: boolean[] = [];
  let modelServer: PodServer;
  let signedFront: Server;
  let restoreCredentials: () => void;
  let source: string;

  before(async () => {
    restoreCredentials = useTestCredentials();
    const specFile = join(mkdtempSync(join(tmpdir(), "cloudloom-spec-")), "spec.json");
    writeFileSync(specFile, JSON.stringify(spec));
    const scoped = loadScoped({
      spec: specFile,
      root: example.root,
      only: "model:intent@1",
      artifact: join(example.root, "model/intent.onnx"),
      modelUrls: [],
    });
    if ("problems" in scoped) throw new Error(scoped.problems);
    modelServer = new PodServer({ ...scoped, logger: pino({ level: "silent" }) });
    const modelPort = (await modelServer.listen(0)).port;
    // An IAM-authenticated front (as API Gateway is): verify the signature, then pass the call on.
    signedFront = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks);
        const valid = verifySigv4(req, body, "execute-api", "eu-west-1");
        verdicts.push(valid);
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
  });
  after(async () => {
    delete process.env.CLOUDLOOM_RUNTIME;
    restoreCredentials();
    await new Promise((resolve) => signedFront.close(resolve));
    await modelServer.close();
  });

  it("is one self-contained file: no require of the repository's modules at run time", () => {
    assert.doesNotMatch(source, /require\(["'][./]/, "everything of cloudloom's and the handler's is inlined");
    assert.match(source, /exports|module\.exports/);
  });

  it("serves a Function URL event: the handler's model call is SigV4-signed and answered by the real model", async () => {
    const { handler } = loadBundle(source);
    const result = await handler(event(JSON.stringify({ message: "my card was charged twice, refund please" })));
    assert.equal(result.statusCode, 200);
    const body = JSON.parse(result.body);
    assert.equal(body.intent, "billing");
    assert.equal(body.modelVersion, "1");
    assert.deepEqual(verdicts, [true], "one signed model call, accepted");
  });

  it("answers bad JSON with 400 and keeps the handler's own 4xx", async () => {
    const { handler } = loadBundle(source);
    assert.equal((await handler(event("{not json"))).statusCode, 400);
    const empty = await handler(event(JSON.stringify({ message: "" })));
    assert.equal(empty.statusCode, 400);
    assert.equal(JSON.parse(empty.body).error.code, "BAD_MESSAGE");
  });

  it("fails at load with the variable and field named when CLOUDLOOM_RUNTIME is wrong", () => {
    const saved = process.env.CLOUDLOOM_RUNTIME;
    process.env.CLOUDLOOM_RUNTIME = JSON.stringify({ region: "central", models: {}, env: "LOG_LEVEL" });
    try {
      assert.throws(() => loadBundle(source), /CLOUDLOOM_RUNTIME\.env: Expected array/);
    } finally {
      process.env.CLOUDLOOM_RUNTIME = saved;
    }
  });
});
