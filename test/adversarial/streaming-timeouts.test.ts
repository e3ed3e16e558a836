import assert from "node:assert/strict";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import type { BackendSource } from "../../gateway/route-table";
import { App, type SpecV1 } from "../../sdk";
import { until } from "../support/until";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN, scrape } from "../support/metrics-token";

const KEY = "key-streaming-0123456789";
const ADMIN = "admin-key-0123456789abcdef";

function streamingSpec(): SpecV1 {
  const app = new App("streaming");
  const central = app.region("central", { kind: "central", placement: {} });
  app.route("POST /secure", { target: app.function("secure", { handler: "secure.ts", regions: [central] }) });
  return app.toSpec({ root: undefined });
}

/** Waits for `condition`, failing with `what` after `ms` (so a request that never settles fails the test, not mocha's timeout). */
async function within(ms: number, what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("streaming requests that never finish (real sockets)", function () {
  this.timeout(60_000);
  const spec = streamingSpec();
  let upstream: StubUpstream;
  let composed: ComposedGateway;
  let base: string;
  let lines: Array<Record<string, unknown>>;
  let reloadFrom: () => Promise<{ spec: SpecV1; source: BackendSource }>;

  const source = (): BackendSource => ({ kind: "remote", endpoints: { functions: { secure: { central: upstream.url } }, models: {} } });
  const call = (signal?: AbortSignal) =>
    fetch(`${base}/secure`, { method: "POST", body: "{}", headers: { authorization: `Bearer ${KEY}` }, signal });
  const metricSays = (pattern: RegExp) => async () => pattern.test(await (await scrape(`${base}/metrics`)).text());

  beforeEach(async () => {
    upstream = await new StubUpstream("central").start();
    lines = [];
    reloadFrom = async () => ({ spec, source: source() });
    composed = composeGateway({
      spec,
      settings: parseSettings({
        apiKeys: [KEY],
        adminKey: ADMIN,
        metricsToken: METRICS_TOKEN,
        logSampleRate: 0,
        health: { probeIntervalMs: 60_000 },
        limits: { upstreamTimeoutMs: 500, perKeyConcurrency: 1 },
      }),
      source: source(),
      reloadFrom: () => reloadFrom(),
      logger: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
    });
    base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
  });
  afterEach(async () => {
    await composed.close();
    await upstream.kill();
  });

  it("answers 504 JSON when the upstream does not answer in time, aborts it, frees the slot, logs and counts it", async () => {
    upstream.behaviour = { status: 200, headers: {}, delayMs: 0, hold: new Promise(() => undefined) };
    const res = await call();
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), { error: { code: "GATEWAY_TIMEOUT", message: "the upstream did not answer in time" } });
    await within(10_000, "the upstream sees its request aborted", () => upstream.abandoned.length === 1);
    await within(
      10_000,
      "the 504 is counted",
      metricSays(
        /http_server_request_duration_seconds_count\{http_request_method="POST",http_route="\/secure",http_response_status_code="504",region="central",version="-"\} 1/,
      ),
    );
    assert.ok(lines.some((l) => l.msg === "request failed" && l.status === 504 && l.route === "POST /secure"));
    upstream.behaviour = { status: 200, headers: {}, delayMs: 0 };
    assert.equal((await call()).status, 200, "perKeyConcurrency 1: the slot is free again");
  });

  it("aborts the upstream when the client goes away, records a 499 without a stack, frees the slot, and lets a reload close the old table", async () => {
    upstream.behaviour = { status: 200, headers: {}, delayMs: 0, hold: new Promise(() => undefined) };
    const controller = new AbortController();
    const pending = call(controller.signal).catch((error: Error) => error);
    await until(() => upstream.received.length === 1);
    controller.abort();
    assert.equal(((await pending) as Error).name, "AbortError");
    await within(10_000, "the upstream sees its request aborted", () => upstream.abandoned.length === 1);
    await within(
      10_000,
      "the 499 is counted",
      metricSays(
        /http_server_request_duration_seconds_count\{http_request_method="POST",http_route="\/secure",http_response_status_code="499",region="central",version="-"\} 1/,
      ),
    );
    assert.ok(
      lines.some((l) => l.status === 499 && l.route === "POST /secure"),
      "the abort is logged",
    );
    assert.ok(!lines.some((l) => l.level === 50 || (l.err as { stack?: string } | undefined)?.stack), JSON.stringify(lines));
    assert.doesNotMatch(await (await scrape(`${base}/metrics`)).text(), /status="500"/);

    upstream.behaviour = { status: 200, headers: {}, delayMs: 0 };
    assert.equal((await call()).status, 200, "perKeyConcurrency 1: the slot is free again");

    const old = composed.gateway["generation"].table;
    let closed = false;
    const close = old.close.bind(old);
    old.close = async () => {
      closed = true;
      await close();
    };
    const reload = await fetch(`${base}/admin/reload`, { method: "POST", headers: { "x-admin-key": ADMIN } });
    assert.equal(reload.status, 200);
    assert.ok(closed, "the table the aborted request started on is closed by the reload");
  });

  it("answers a failed reload with the fixed INTERNAL body, never the error's own text", async () => {
    reloadFrom = async () => {
      throw new Error("cannot read /etc/cloudloom/endpoints.json: secret-token-123");
    };
    const res = await fetch(`${base}/admin/reload`, { method: "POST", headers: { "x-admin-key": ADMIN } });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: { code: "INTERNAL", message: "internal error; see the server log for this request id" } });
    assert.ok(lines.some((l) => l.msg === "reload failed; the previous configuration stays"));
    assert.equal((await call()).status, 200, "the previous configuration still serves");
  });
});
