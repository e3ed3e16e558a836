/**
 * A function pod's calls to a model at zero count in the model's demand, over
 * real sockets on 127.0.0.1: the runtime's model client holds calls to a
 * model whose port refuses connections, its reporter sends the counts to the
 * gateway's DEMAND_REPORT_PATH, and the gateway's demand endpoint (what the
 * model's KEDA metrics-api trigger reads) shows them, summed over instances
 * through a real redis-server. Reports that are unauthenticated, spoofed,
 * oversized or malformed are refused with typed errors.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadScoped } from "../../cli/commands/serve";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { DemandReporter, ModelCallDemand } from "../../runtime/model-call-demand";
import { PodServer } from "../../runtime/pod/pod-server";
import { remoteModelClient } from "../../runtime/remote-model";
import { DEMAND_REPORT, DEMAND_REPORT_PATH } from "../../runtime/contract";
import example from "../../examples/support-desk/app";
import { DEMAND_TOKEN as TOKEN, demandAt, functionsOnlySpec, gatewayFor, MAX_PENDING, untilDemand } from "../support/demand-gateway";
import { freePort, redisForSuite, type RedisServer } from "../support/redis";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN } from "../support/metrics-token";

/** PUTs `body` (an object, sent as JSON, or raw text) as a report to `base`, with `token` (null: none). */
function report(base: string, body: unknown, token: string | null = TOKEN): Promise<Response> {
  return fetch(`${base}${DEMAND_REPORT_PATH}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const calls = (pending: number, inFlight = 0, model = "intent@1", region = "central") => [{ model, region, pending, inFlight }];

async function refused(response: Response, status: number, code: string): Promise<void> {
  assert.equal(response.status, status);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, code);
}

describe("demand reports: a function's calls to a model at zero wake it (real sockets)", function () {
  this.timeout(120_000);
  let gateway: { composed: ComposedGateway; base: string } | undefined;
  let model: StubUpstream | undefined;

  afterEach(async () => {
    await gateway?.composed.close();
    await model?.kill();
    gateway = undefined;
    model = undefined;
  });

  it("counts the calls a function holds for a model only functions call, and clears them once the model answers", async () => {
    gateway = await gatewayFor(TOKEN);
    assert.deepEqual(await demandAt(gateway.base), {
      kind: "model",
      entry: "intent@1",
      region: "central",
      pending: 0,
      inFlight: 0,
      demand: 0,
      instances: 1,
    });
    const port = await freePort();
    const demand = new ModelCallDemand();
    const client = remoteModelClient(
      `http://127.0.0.1:${port}`,
      "intent@1",
      "1",
      { maxPending: MAX_PENDING, maxWaitMs: 60_000 },
      demand.of("intent@1", "central"),
    );
    const warnings: string[] = [];
    const reporter = new DemandReporter(demand, { url: `${gateway.base}${DEMAND_REPORT_PATH}`, token: TOKEN }, (m) => warnings.push(m), 50);
    reporter.start();
    try {
      const predictions = [1, 2, 3].map(() => client.predict({ features: new Float32Array(4) }));
      const held = await untilDemand(gateway.base, (d) => d.pending === 3);
      assert.deepEqual([held.pending, held.inFlight, held.demand], [3, 0, 3], "the model's scaler sees three held calls");

      model = await new StubUpstream("intent").start(port);
      model.behaviour = { ...model.behaviour, body: () => ({ outputs: { probabilities: [0.5, 0.5] } }) };
      for (const outputs of await Promise.all(predictions)) assert.deepEqual([...outputs.probabilities], [0.5, 0.5]);
      await untilDemand(gateway.base, (d) => d.demand === 0);
      assert.deepEqual(warnings, [], "every report was taken");
    } finally {
      await reporter.stop();
    }
  });

  it("stops counting a source that stops reporting, once its report expires", async () => {
    gateway = await gatewayFor(TOKEN);
    assert.equal((await report(gateway.base, { source: "pod-a", calls: calls(2, 1) })).status, 204);
    assert.deepEqual((({ pending, inFlight }) => [pending, inFlight])(await demandAt(gateway.base)), [2, 1]);
    // Nothing restates it: after DEMAND_REPORT.ttlMs it counts no more.
    await untilDemand(gateway.base, (d) => d.demand === 0);
  });

  it("replaces a source's counts with its latest report, and adds up different sources", async () => {
    gateway = await gatewayFor(TOKEN);
    await report(gateway.base, { source: "pod-a", calls: calls(4) });
    await report(gateway.base, { source: "pod-a", calls: calls(1) });
    await report(gateway.base, { source: "pod-b", calls: calls(2, 3) });
    const summed = await demandAt(gateway.base);
    assert.deepEqual([summed.pending, summed.inFlight], [3, 3]);
  });

  it("refuses unauthenticated, spoofed, oversized and malformed reports with typed errors, and counts none of them", async () => {
    gateway = await gatewayFor(TOKEN);
    const { base } = gateway;
    await refused(await report(base, { source: "pod-a", calls: calls(1) }, null), 401, "UNAUTHORIZED");
    await refused(await report(base, { source: "pod-a", calls: calls(1) }, "not-the-token-at-all-0000"), 401, "UNAUTHORIZED");
    await refused(await report(base, "x".repeat(DEMAND_REPORT.maxBytes + 1)), 413, "PAYLOAD_TOO_LARGE");
    await refused(await report(base, '{"source":"pod-a","calls":['), 400, "BAD_JSON");
    const invalid: unknown[] = [
      {},
      [],
      { source: "pod a/../b", calls: calls(1) },
      { source: "pod-a", calls: calls(1), extra: true },
      { source: "pod-a", calls: calls(-1) },
      { source: "pod-a", calls: calls(1.5) },
      { source: "pod-a", calls: calls(MAX_PENDING + 1) },
      { source: "pod-a", calls: calls(0, DEMAND_REPORT.maxInFlight + 1) },
      // Spoofed: a model version that holds nothing here, a function, a region the model is not in.
      { source: "pod-a", calls: calls(1, 0, "intent@9") },
      { source: "pod-a", calls: calls(1, 0, "caller") },
      { source: "pod-a", calls: calls(1, 0, "intent@1", "edge") },
      { source: "pod-a", calls: [...calls(1), ...calls(1)] },
      { source: "pod-a", calls: Array.from({ length: DEMAND_REPORT.maxCalls + 1 }, () => calls(1)[0]) },
    ];
    for (const body of invalid) await refused(await report(base, body), 400, "INVALID_INPUT");
    assert.equal((await demandAt(base)).demand, 0, "no refused report counts");
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  it("limits wrong tokens per address (429 with Retry-After) but never the right one, and refuses every report when it has no token", async () => {
    gateway = await gatewayFor(TOKEN);
    let response: Response | undefined;
    for (let i = 0; i < 20; i++) {
      response = await report(gateway.base, { source: "pod-a", calls: calls(1) }, `wrong-token-${i}-0123456789`);
      if (response.status === 429) break;
      await response.body?.cancel();
    }
    assert.equal(response!.status, 429);
    assert.ok(Number(response!.headers.get("retry-after")) >= 1);
    // Functions sharing the address with whoever sent those keep reporting: the right token is not locked out.
    assert.equal((await report(gateway.base, { source: "pod-a", calls: calls(1) })).status, 204);
    await gateway.composed.close();
    gateway = await gatewayFor(undefined);
    await refused(await report(gateway.base, { source: "pod-a", calls: calls(1) }), 401, "UNAUTHORIZED");
  });
});

describe("demand reports: summed once over gateway instances through Redis (real redis-server)", function () {
  this.timeout(120_000);
  let redis: RedisServer | undefined;
  const gateways: Array<{ composed: ComposedGateway; base: string }> = [];

  beforeEach(async function () {
    redis = await redisForSuite(this);
    for (let i = 0; i < 2; i++) gateways.push(await gatewayFor(TOKEN, redis!.url));
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.composed.close()));
    await redis?.stop();
  });

  it("shows a report taken by one instance at every instance, and a source whose reports land on both counts once", async () => {
    const [a, b] = gateways;
    assert.equal((await report(a.base, { source: "pod-a", calls: calls(2) })).status, 204);
    assert.equal((await demandAt(b.base)).pending, 2, "taken by A, read at B");
    assert.equal((await report(b.base, { source: "pod-a", calls: calls(3) })).status, 204);
    for (const { base } of gateways) assert.equal((await demandAt(base)).pending, 3, "restated at B: counted once, not 2 + 3");
    await report(b.base, { source: "pod-b", calls: calls(1) });
    assert.equal((await demandAt(a.base)).pending, 4);
  });

  it("refuses a new source while the maximum number of sources count, and takes it again once they expire", async function () {
    const [a, b] = gateways;
    const sources = Array.from({ length: DEMAND_REPORT.maxSources }, (_, i) => `pod-${i}`);
    for (let i = 0; i < sources.length; i += 64)
      await Promise.all(
        sources.slice(i, i + 64).map(async (source) => assert.equal((await report(a.base, { source, calls: calls(0, 1) })).status, 204)),
      );
    await refused(await report(a.base, { source: "one-too-many", calls: calls(1) }), 503, "STORE_UNAVAILABLE");
    // B took none of them itself: Redis's count of sources refuses it there too.
    await refused(await report(b.base, { source: "one-too-many", calls: calls(1) }), 503, "STORE_UNAVAILABLE");
    assert.equal((await report(a.base, { source: "pod-0", calls: calls(1) })).status, 204, "a counted source still restates");
    assert.equal((await demandAt(a.base)).inFlight, DEMAND_REPORT.maxSources - 1);
    // Unrestated, they expire, and a new source is taken.
    await untilDemand(a.base, (d) => d.demand === 0);
    assert.equal((await report(a.base, { source: "one-too-many", calls: calls(1) })).status, 204);
  });
});

describe("demand reports: a function pod holding calls to its model at zero wakes it (pod servers and gateway, real sockets)", function () {
  this.timeout(120_000);
  const logger = pino({ level: "silent" });
  let gateway: { composed: ComposedGateway; base: string } | undefined;
  const pods: PodServer[] = [];

  afterEach(async () => {
    await Promise.all(pods.splice(0).map((pod) => pod.close()));
    await gateway?.composed.close();
  });

  it("counts a call the function pod holds for its model at zero in the model's demand until the model's pod starts", async () => {
    const spec = functionsOnlySpec();
    const composed = composeGateway({
      spec,
      settings: parseSettings({ health: { probeIntervalMs: 60_000 }, logSampleRate: 0, demandToken: TOKEN, metricsToken: METRICS_TOKEN }),
      source: { kind: "remote", endpoints: { functions: {}, models: {} } },
      logger,
    });
    gateway = { composed, base: `http://127.0.0.1:${(await composed.gateway.listen(0)).port}` };
    const modelPort = await freePort();
    const specFile = join(mkdtempSync(join(tmpdir(), "cloudloom-demand-")), "spec.json");
    writeFileSync(specFile, JSON.stringify(spec));
    const fn = loadScoped({
      spec: specFile,
      root: example.root,
      only: "function:caller",
      region: "central",
      modelUrls: [`intent@1=http://127.0.0.1:${modelPort}`],
    });
    if ("problems" in fn) throw new Error(fn.problems);
    const functionPod = new PodServer({ ...fn, logger, demandReport: { url: `${gateway.base}${DEMAND_REPORT_PATH}`, token: TOKEN } });
    pods.push(functionPod);
    const functionUrl = `http://127.0.0.1:${(await functionPod.listen(0)).port}`;

    const answer = fetch(`${functionUrl}/_cloudloom/functions/caller`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "my card was charged twice, refund please" }),
    });
    const held = await untilDemand(gateway.base, (d) => d.pending === 1);
    assert.equal(held.demand, 1, "the model's scaler sees the call its function holds");

    const model = loadScoped({
      spec: specFile,
      root: example.root,
      only: "model:intent@1",
      region: "central",
      artifact: join(example.root, "model/intent.onnx"),
      modelUrls: [],
    });
    if ("problems" in model) throw new Error(model.problems);
    const modelPod = new PodServer({ ...model, logger });
    pods.push(modelPod);
    await modelPod.listen(modelPort);
    const response = await answer;
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { intent: string }).intent, "billing");
    await untilDemand(gateway.base, (d) => d.demand === 0);
  });
});
