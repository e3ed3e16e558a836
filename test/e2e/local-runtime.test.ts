import assert from "node:assert/strict";
import pino from "pino";
import { parseSettings } from "../../gateway/config";
import { LocalTarget } from "../../cli/local-target";
import { featurize } from "../../examples/support-desk/model/featurize";
import { App } from "../../sdk";
import app from "../fixtures/local-app/app";
import { INTENT_SHA256 } from "../fixtures/local-app/intent-sha";

const json = async (response: Response): Promise<any> => response.json();

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("local runtime over HTTP (real onnxruntime, real sockets)", () => {
  let gateway: LocalTarget;
  let base: string;

  before(async () => {
    gateway = new LocalTarget({ spec: app.toDraft(), root: app.root, settings: parseSettings({}), logger: pino({ level: "silent" }) });
    const address = await gateway.listen(0);
    base = `http://127.0.0.1:${address.port}`;
  });
  after(() => gateway.close());

  it("classifies known messages through the function and the model", async () => {
    const cases: Array<[string, string]> = [
      ["I was charged twice for my pro plan", "billing"],
      ["the android app shows error 500 after the update", "technical"],
      ["we want a quote for 200 engineers", "sales"],
      ["I forgot my password", "account"],
      ["congratulations you won a free cruise click here", "spam"],
    ];
    for (const [message, intent] of cases) {
      const res = await post(base, "/classify", { message });
      assert.equal(res.status, 200, message);
      assert.equal((await json(res)).intent, intent, message);
    }
  });

  it("routes to the edge when the locality matches and to central otherwise", async () => {
    const edge = await post(base, "/classify", { message: "reset my password" }, { "x-cloudloom-locality": "de" });
    const central = await post(base, "/classify", { message: "reset my password" }, { "x-cloudloom-locality": "fr" });
    assert.equal(edge.headers.get("x-cloudloom-region"), "edge");
    assert.equal(central.headers.get("x-cloudloom-region"), "central");
    assert.equal(edge.headers.get("x-cloudloom-version"), "intent@1");
  });

  it("batches concurrent requests into fewer runs and answers each one individually", async () => {
    const host = gateway.runtime.modelHost("intent@1", "central")!;
    const messages = Array.from(
      { length: 24 },
      (_, i) => `message number ${i} about ${["billing", "a crash", "pricing", "my login"][i % 4]}`,
    );
    const before = host.batchesRun;
    const responses = await Promise.all(
      messages.map((m) => post(base, "/models/intent", { inputs: { features: Array.from(featurize(m)) } })),
    );
    const runs = host.batchesRun - before;
    assert.ok(runs < messages.length, `${runs} runs for ${messages.length} requests`);
    const bodies = await Promise.all(responses.map(json));
    const singles = await Promise.all(messages.map((m) => gateway.runtime.predict("intent@1", "edge", { features: featurize(m) })));
    bodies.forEach((body, i) => {
      assert.equal(body.version, "1");
      body.outputs.probabilities.forEach((p: number, k: number) => assert.ok(Math.abs(p - singles[i].outputs.probabilities[k]) < 1e-6));
    });
  });

  it("refuses a version whose sha256 does not match, and keeps serving the others", async () => {
    const bad = await post(base, "/models/intent-v2", { inputs: { features: new Array(512).fill(0) } });
    assert.equal(bad.status, 503);
    assert.deepEqual(await bad.json(), {
      error: { code: "MODEL_UNAVAILABLE", message: "model version intent@2 is unavailable: its artifact failed verification" },
    });
    assert.match(gateway.runtime.unavailable.get("intent@2")!, /sha256 .* declared 0{64}/);
    assert.equal((await post(base, "/models/intent", { inputs: { features: new Array(512).fill(0) } })).status, 200);
  });

  it("answers a wrong input shape or type with a 400 naming the field", async () => {
    const short = await post(base, "/models/intent", { inputs: { features: [1, 2, 3] } });
    assert.equal(short.status, 400);
    assert.match((await json(short)).error.message, /inputs\.features has 3 values; shape \[512\] needs 512/);
    const strings = await post(base, "/models/intent", { inputs: { features: new Array(512).fill("x") } });
    assert.match((await json(strings)).error.message, /inputs\.features must hold only finite numbers/);
    const overflow = await post(base, "/models/intent", { inputs: { features: [3.5e38, ...new Array(511).fill(0)] } });
    assert.equal(overflow.status, 400);
    assert.match((await json(overflow)).error.message, /inputs\.features must hold only finite numbers within float32's range/);
    const extra = await post(base, "/models/intent", { inputs: { features: new Array(512).fill(0), mask: [1] } });
    assert.match((await json(extra)).error.message, /inputs\.mask is not an input/);
    const broken = await post(base, "/models/intent", "{not json");
    assert.equal(broken.status, 400);
    assert.equal((await json(broken)).error.code, "BAD_JSON");
  });

  it("sheds load with 503 and Retry-After when a model's queue is full", async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post(base, "/models/narrow", { inputs: { features: new Array(512).fill(0) } })),
    );
    const shed = responses.filter((r) => r.status === 503);
    assert.ok(shed.length > 0, "nothing was shed");
    assert.ok(responses.every((r) => r.status === 200 || r.status === 503));
    for (const r of shed) {
      assert.equal(r.headers.get("retry-after"), "1");
      assert.equal((await json(r)).error.code, "QUEUE_FULL");
    }
  });

  it("returns 500 without internals when a handler throws, and keeps serving", async () => {
    const res = await post(base, "/boom", {});
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.doesNotMatch(text, /hunter2|Error|stack/);
    assert.equal(JSON.parse(text).error.code, "FUNCTION_FAILED");
    assert.equal((await post(base, "/classify", { message: "refund please" })).status, 200);
  });

  it("scales to zero after the idle window, and the next request is a measured cold start", async () => {
    const features = new Array(512).fill(0);
    const first = await post(base, "/models/intent", { inputs: { features } }, { "x-cloudloom-locality": "de" });
    await first.arrayBuffer();
    const warm = await post(base, "/models/intent", { inputs: { features } }, { "x-cloudloom-locality": "de" });
    assert.equal(warm.headers.get("x-cloudloom-cold"), "false");
    const host = gateway.runtime.modelHost("intent@1", "edge")!;
    assert.equal(host.instances, 1);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(host.instances, 0, "the idle instance did not unload");
    const cold = await post(base, "/models/intent", { inputs: { features } }, { "x-cloudloom-locality": "de" });
    assert.equal(cold.status, 200);
    assert.equal(cold.headers.get("x-cloudloom-cold"), "true");
    assert.ok(Number(cold.headers.get("x-cloudloom-cold-start-ms")) > 0);
    assert.match(cold.headers.get("x-cloudloom-held-ms") ?? "", /^\d+$/, "held at the gateway (within the policy's hold) while it loaded");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /cloudloom_cold_start_seconds_count\{entry="intent@1",region="edge"\} [1-9]/);
    // The pre-warm benchmark's two numbers, live: the share of calls (batches) that started cold, and idle memory-time.
    assert.match(metrics, /cloudloom_pool_calls_total\{entry="intent@1",region="edge",start="cold"\} [1-9]/);
    assert.match(metrics, /cloudloom_cold_start_share\{entry="intent@1",region="edge"\} 0\.\d+\n/);
    assert.match(metrics, /cloudloom_warm_idle_megabyte_seconds_total\{entry="intent@1",region="edge"\} \d*\.?\d*[1-9]/);
  });

  it("answers unknown paths with a JSON 404", async () => {
    const res = await fetch(`${base}/nope`);
    assert.equal(res.status, 404);
    assert.equal((await json(res)).error.code, "NOT_FOUND");
  });
});

describe("local gateway shutdown", () => {
  it("finishes in-flight requests, then stops accepting connections", async () => {
    const gateway = new LocalTarget({
      spec: app.toDraft(),
      root: app.root,
      settings: parseSettings({}),
      logger: pino({ level: "silent" }),
    });
    const base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
    const inFlight = post(base, "/slow", {});
    await new Promise((r) => setTimeout(r, 50));
    const closed = gateway.close();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { done: true });
    await closed;
    await assert.rejects(fetch(`${base}/healthz`));
  });
});

/** A logger whose JSON lines the test reads. */
function capturingLogger(): { logger: pino.Logger; lines: any[] } {
  const lines: any[] = [];
  return { logger: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }), lines };
}

describe("local target failures explain themselves: in the log with the request id, never in the response", () => {
  let target: LocalTarget;
  let base: string;
  let lines: any[];

  before(async () => {
    // A model whose declared signature (256 features) the ONNX graph (512) refuses: it loads, then fails at run time.
    const broken = new App("broken-model", { root: app.root });
    const central = broken.region("central", { kind: "central", placement: {} });
    const model = broken.model("narrow-features", {
      version: "1",
      artifact: { path: "../../../examples/support-desk/model/intent.onnx", sha256: INTENT_SHA256 },
      signature: {
        inputs: { features: { type: "float32", shape: [-1, 256] } },
        outputs: { probabilities: { type: "float32", shape: [-1, 5] } },
      },
      regions: [central],
    });
    const boom = broken.function("boom", { handler: "boom.ts", regions: [central] });
    broken.route("POST /model", { target: model, auth: "none" });
    broken.route("POST /boom", { target: boom, auth: "none" });
    const captured = capturingLogger();
    lines = captured.lines;
    target = new LocalTarget({ spec: broken.toDraft(), root: app.root, settings: parseSettings({}), logger: captured.logger });
    base = `http://127.0.0.1:${(await target.listen(0)).port}`;
  });
  after(() => target.close());

  it("logs a throwing handler's exception with its stack and the request id; the client gets only the code", async () => {
    const res = await post(base, "/boom", {}, { "x-request-id": "req-boom-0001" });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("x-request-id"), "req-boom-0001");
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), {
      error: { code: "FUNCTION_FAILED", message: "the function failed; see the server log for this request id" },
    });
    assert.doesNotMatch(text, /hunter2|boom\.ts|\bat /);
    const line = lines.find((l) => l.id === "req-boom-0001");
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line.level, 50, "a 5xx is logged at error level");
    assert.equal(line.msg, "request failed");
    assert.equal(line.code, "FUNCTION_FAILED");
    assert.equal(line.route, "POST /boom");
    assert.match(line.err.message, /database password is hunter2/);
    assert.match(line.err.stack, /boom\.ts:\d+/, "the stack points into the handler");
  });

  it("answers 500 MODEL_FAILED (not 504) when the model's session fails at run time, and logs onnxruntime's cause", async () => {
    const res = await post(base, "/model", { inputs: { features: new Array(256).fill(0) } }, { "x-request-id": "req-model-0001" });
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.deepEqual(body, { error: { code: "MODEL_FAILED", message: "the model failed to run; see the server log for this request id" } });
    const line = lines.find((l) => l.id === "req-model-0001");
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line.code, "MODEL_FAILED");
    assert.equal(line.status, 500);
    assert.match(line.err.message, /features|dimension/i, "onnxruntime's own message is in the log");
    assert.ok(line.err.stack);
    // The model's failure is the request's, not an unhealthy backend: the next call is tried again, not 503.
    assert.equal((await post(base, "/model", { inputs: { features: new Array(256).fill(0) } })).status, 500);
  });
});
