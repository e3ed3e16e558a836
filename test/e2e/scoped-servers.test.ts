import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { PodServer } from "../../runtime/pod/pod-server";
import { loadScoped, withModelVersion, sagemakerArgs } from "../../cli/commands/serve";
import { UsageError } from "../../cli/io";
import example from "../../examples/support-desk/app";
import { App } from "../../sdk";
import localApp from "../fixtures/local-app/app";

const json = async (response: Response): Promise<any> => response.json();

/** The example's spec as a file, the way a pod reads it from its ConfigMap. */
function specFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), "cloudloom-pod-")), "spec.json");
  writeFileSync(file, JSON.stringify(example.toSpec()));
  return file;
}

describe("pod-style servers: one entry, one region (real sockets)", () => {
  const spec = specFile();
  const servers: PodServer[] = [];
  let modelUrl: string;
  let functionUrl: string;

  before(async () => {
    const logger = pino({ level: "silent" });
    const model = loadScoped({
      spec,
      root: example.root,
      only: "model:intent@1",
      region: "central",
      artifact: join(example.root, "model/intent.onnx"),
      modelUrls: [],
    });
    if ("problems" in model) throw new Error(model.problems);
    const modelServer = new PodServer({ ...model, logger });
    servers.push(modelServer);
    modelUrl = `http://127.0.0.1:${(await modelServer.listen(0)).port}`;
    const fn = loadScoped({ spec, root: example.root, only: "function:classify", region: "central", modelUrls: [`intent@1=${modelUrl}`] });
    if ("problems" in fn) throw new Error(fn.problems);
    const functionServer = new PodServer({ ...fn, logger });
    servers.push(functionServer);
    functionUrl = `http://127.0.0.1:${(await functionServer.listen(0)).port}`;
  });
  after(() => Promise.all(servers.map((s) => s.close())));

  it("serves the function, which calls its model in another server over HTTP", async () => {
    const res = await fetch(`${functionUrl}/_cloudloom/functions/classify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "my card was charged twice, refund please" }),
    });
    assert.equal(res.status, 200);
    assert.equal((await json(res)).intent, "billing");
    assert.equal(servers[1].runtime.modelHost("intent@1", "central"), undefined, "the function server loads no model itself");
    assert.ok(servers[0].runtime.modelHost("intent@1", "central")!.batchesRun >= 1);
  });

  it("answers on its model's version-less path too, naming the version it served", async () => {
    const features = new Array(512).fill(0);
    const res = await fetch(`${modelUrl}/_cloudloom/models/intent`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: { features } }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-cloudloom-version"), "1");
  });

  it("fills {version} in its arguments from CLOUDLOOM_MODEL_VERSION, and asks for it when it is missing", () => {
    const args = { spec: "/mnt/models/{version}/spec.json", only: "model:intent@{version}", modelUrls: [], port: 9000, host: "0.0.0.0" };
    assert.deepEqual(withModelVersion(args, { CLOUDLOOM_MODEL_VERSION: "2" }), {
      ...args,
      spec: "/mnt/models/2/spec.json",
      only: "model:intent@2",
      artifact: undefined,
      root: undefined,
    });
    assert.throws(() => withModelVersion(args, {}), /CLOUDLOOM_MODEL_VERSION must be set/);
    const plain = { ...args, spec: "spec.json", only: "model:intent@1" };
    assert.equal(withModelVersion(plain, {}), plain, "no placeholder, nothing to fill");
  });

  it("serves only its internal endpoint, not the app's public routes", async () => {
    const res = await fetch(`${modelUrl}/v1/models/intent`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 404);
  });

  it("refuses an --only entry or a --region the spec does not declare, naming what exists", () => {
    assert.throws(
      () => loadScoped({ spec, only: "model:intent@9", modelUrls: [] }),
      (e: Error) => e instanceof UsageError && /it has: intent@1/.test(e.message),
    );
    assert.throws(() => loadScoped({ spec, only: "function:classify", region: "mars", modelUrls: [] }), /no such region/);
    assert.throws(() => loadScoped({ spec, only: "gpu:x", modelUrls: [] }), /--only must be/);
    assert.throws(() => loadScoped({ spec, only: "function:classify", modelUrls: ["nourl"] }), /<name@version>=<url>/);
  });
});

describe("SageMaker model container contract (real sockets)", () => {
  let server: PodServer;
  let base: string;

  before(async () => {
    // The model directory SageMaker fills from the S3 prefix: spec.json and model.onnx.
    const modelDir = mkdtempSync(join(tmpdir(), "cloudloom-sagemaker-"));
    writeFileSync(join(modelDir, "spec.json"), JSON.stringify(example.toSpec()));
    copyFileSync(join(example.root, "model/intent.onnx"), join(modelDir, "model.onnx"));
    const args = sagemakerArgs({ CLOUDLOOM_SAGEMAKER_MODEL: "intent@1", CLOUDLOOM_REGION: "central" }, modelDir)!;
    assert.equal(args.port, 8080, "SageMaker calls the container on port 8080");
    assert.equal(args.host, "0.0.0.0");
    const loaded = loadScoped(args);
    if ("problems" in loaded) throw new Error(loaded.problems);
    server = new PodServer({ ...loaded, sagemaker: true, logger: pino({ level: "silent" }) });
    base = `http://127.0.0.1:${(await server.listen(0)).port}`;
  });
  after(() => server.close());

  it("answers GET /ping once the model is loaded", async () => {
    const res = await fetch(`${base}/ping`);
    assert.equal(res.status, 200);
  });

  it("answers POST /invocations with the model's outputs", async () => {
    const features = new Array(512).fill(0);
    features[7] = 1;
    const res = await fetch(`${base}/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: { features } }),
    });
    assert.equal(res.status, 200);
    const { outputs } = await json(res);
    assert.equal(outputs.probabilities.length, 5);
    assert.ok(Math.abs(outputs.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-4);
  });

  it("is not a SageMaker container without CLOUDLOOM_SAGEMAKER_MODEL", () => {
    assert.equal(sagemakerArgs({}), undefined);
  });
});

describe("a pod's failures explain themselves (real sockets)", () => {
  let server: PodServer;
  let base: string;
  const lines: any[] = [];

  before(async () => {
    const app = new App("pod-failures", { root: localApp.root });
    const central = app.region("central", { kind: "central", placement: {} });
    const boom = app.function("boom", { handler: "boom.ts", regions: [central] });
    app.route("POST /boom", { target: boom, auth: "none" });
    const file = join(mkdtempSync(join(tmpdir(), "cloudloom-pod-boom-")), "spec.json");
    writeFileSync(file, JSON.stringify(app.toDraft()));
    const loaded = loadScoped({ spec: file, root: localApp.root, only: "function:boom", region: "central", modelUrls: [] });
    if ("problems" in loaded) throw new Error(loaded.problems);
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    server = new PodServer({ ...loaded, logger });
    base = `http://127.0.0.1:${(await server.listen(0)).port}`;
  });
  after(() => server.close());

  it("logs a throwing handler's stack with the gateway's request id, and answers only the code", async () => {
    const res = await fetch(`${base}/_cloudloom/functions/boom`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-pod-0001" },
      body: "{}",
    });
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.equal(JSON.parse(text).error.code, "FUNCTION_FAILED");
    assert.doesNotMatch(text, /hunter2|boom\.ts|\bat /);
    const line = lines.find((l) => l.requestId === "req-pod-0001");
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line.level, 50);
    assert.equal(line.code, "FUNCTION_FAILED");
    assert.match(line.err.message, /hunter2/);
    assert.match(line.err.stack, /boom\.ts:\d+/);
  });

  it("refuses a port in use with an error the CLI can name, and unloads what it warmed", async () => {
    const port = Number(new URL(base).port);
    const other = loadScopedOrThrow();
    const second = new PodServer({ ...other, logger: pino({ level: "silent" }) });
    await assert.rejects(second.listen(port), (error: NodeJS.ErrnoException) => error.code === "EADDRINUSE");
  });

  function loadScopedOrThrow() {
    const spec = JSON.parse(JSON.stringify(server.runtime.spec));
    const file = join(mkdtempSync(join(tmpdir(), "cloudloom-pod-boom-")), "spec.json");
    writeFileSync(file, JSON.stringify(spec));
    const loaded = loadScoped({ spec: file, root: localApp.root, only: "function:boom", region: "central", modelUrls: [] });
    if ("problems" in loaded) throw new Error(loaded.problems);
    return loaded;
  }
});
