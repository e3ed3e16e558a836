import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Gateway } from "../../gateway/gateway";
import { App, type SpecV1 } from "../../sdk";
import { post, startGateway } from "../support/gateway-app";
import type { StubUpstream } from "../support/upstream";
import { scrape } from "../support/metrics-token";

/** An upstream whose status the test sets, or that fails only requests whose body asks for it (the caller's own bad input). */
class ScriptedUpstream {
  status = 200;
  received = 0;
  private server?: Server;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        this.received++;
        const bad = Buffer.concat(chunks).toString("utf8").includes('"bad":true');
        res.writeHead(bad ? 500 : this.status, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: !bad }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** One function, in central and at a `de` edge, on an open route. */
function spec(): SpecV1 {
  const app = new App("outliers");
  const central = app.region("central", { kind: "central", placement: {} });
  const edge = app.region("edge", { kind: "edge", localities: ["de"], placement: {} });
  app.route("POST /work", { target: app.function("work", { handler: "work.ts", regions: [central, edge] }), auth: "none" });
  app.route("POST /central-only", { target: app.function("solo", { handler: "solo.ts", regions: [central] }), auth: "none" });
  return app.toSpec({ root: undefined });
}

const DE = { "x-cloudloom-locality": "de" };

describe("outlier detection (Envoy's gateway failures, max ejection, panic routing)", function () {
  this.timeout(60_000);
  let central: ScriptedUpstream;
  let edge: ScriptedUpstream;
  let running: { gateway: Gateway; base: string; close: () => Promise<void> } | undefined;

  beforeEach(async () => {
    central = await new ScriptedUpstream().start();
    edge = await new ScriptedUpstream().start();
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await Promise.all([central.stop(), edge.stop()]);
  });

  const start = async (settings: Record<string, unknown> = {}) =>
    (running = await startGateway(spec(), central as unknown as StubUpstream, edge as unknown as StubUpstream, settings));

  it("does not let one client's failing input take a function down for another client", async () => {
    const { base } = await start();
    const bad = [];
    for (let i = 0; i < 8; i++) bad.push((await post(base, "/central-only", { bad: true })).status);
    assert.deepEqual(bad, Array(8).fill(500), "the bad client gets its function's own 500s");
    const good = [];
    for (let i = 0; i < 10; i++) good.push((await post(base, "/central-only", { bad: false })).status);
    assert.deepEqual(good, Array(10).fill(200), "nobody else is refused with NO_HEALTHY_BACKEND or an open circuit");
    const metrics = await (await scrape(`${base}/metrics`)).text();
    assert.match(metrics, /cloudloom_upstream_errors_total\{route="POST \/central-only",region="central",kind="5xx"\} 8/);
    assert.match(metrics, /cloudloom_breaker_state\{route="POST \/central-only",region="central"\} 0/);
  });

  it("still ejects on gateway failures (503) and steers the edge's clients to central", async () => {
    const { base } = await start({ health: { ejectAfter: 2, ejectForMs: 60_000, probeIntervalMs: 60_000 } });
    edge.status = 503;
    const first = [(await post(base, "/work", {}, undefined, DE)).status, (await post(base, "/work", {}, undefined, DE)).status];
    assert.deepEqual(first, [503, 503]);
    const received = edge.received;
    const after = await post(base, "/work", {}, undefined, DE);
    assert.equal(after.status, 200);
    assert.equal(after.headers.get("x-cloudloom-region"), "central");
    assert.equal(edge.received, received, "the ejected edge gets no traffic while central is healthy");
  });

  it("keeps serving when every region is ejected (panic routing) instead of refusing everyone", async () => {
    const { base } = await start({
      health: { ejectAfter: 1, ejectForMs: 60_000, probeIntervalMs: 60_000 },
      breaker: { consecutiveFailures: 100 },
    });
    edge.status = 503;
    central.status = 503;
    assert.equal((await post(base, "/work", {}, undefined, DE)).status, 503);
    assert.equal((await post(base, "/work")).status, 503);
    edge.status = 200;
    central.status = 200;
    const recovered = await post(base, "/work");
    assert.equal(recovered.status, 200, "both regions are ejected, yet the target keeps its backends in service");
  });

  it("can count every 5xx against a backend when asked (health.ejectOn: all-5xx)", async () => {
    const { base } = await start({
      health: { ejectOn: "all-5xx", ejectAfter: 100, probeIntervalMs: 60_000 },
      breaker: { consecutiveFailures: 3 },
    });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(base, "/central-only", { bad: true })).status);
    assert.deepEqual(statuses, [500, 500, 500, 503]);
    assert.equal(central.received, 3, "the open circuit sends nothing upstream");
  });
});
