import assert from "node:assert/strict";
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import type { Gateway } from "../../gateway/gateway";
import { parseSettings } from "../../gateway/config";
import { endpointsFor, gatewaySpec, post } from "../support/gateway-app";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN, scrape } from "../support/metrics-token";

describe("gateway: a backend that splits a canary itself (an FC alias with version weights; real sockets)", () => {
  const central = new StubUpstream("central");
  const edge = new StubUpstream("edge");
  const alias = new StubUpstream("fc-alias");
  let gateway: Gateway;
  let base: string;

  before(async () => {
    await Promise.all([central.start(), edge.start(), alias.start()]);
    alias.behaviour = { status: 200, headers: { "x-cloudloom-version": "2" }, delayMs: 0 };
    const spec = gatewaySpec({ v1: 90, v2: 10 });
    gateway = composeGateway({
      spec,
      settings: parseSettings({ health: { probeIntervalMs: 60_000 }, metricsToken: METRICS_TOKEN }),
      source: { kind: "remote", endpoints: { ...endpointsFor(spec, central, edge), canaries: { "POST /model": { central: alias.url } } } },
      logger: pino({ level: "silent" }),
    }).gateway;
    base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
  });
  after(async () => {
    await gateway.close();
    await Promise.all([central.kill(), edge.kill(), alias.kill()]);
  });

  it("sends every call of the weighted route to the backend's split, on the model's version-less path, and passes on the version it chose", async () => {
    for (let i = 0; i < 20; i++) {
      const res = await post(base, "/model", { inputs: { x: [[1]] } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-cloudloom-version"), "2");
    }
    assert.equal(alias.received.length, 20);
    assert.deepEqual([...new Set(alias.received.map((r) => r.path))], ["/_cloudloom/models/m"]);
    assert.equal(central.received.filter((r) => r.path.startsWith("/_cloudloom/models/")).length, 0, "the gateway split nothing itself");
    const metrics = await (await scrape(`${base}/metrics`)).text();
    assert.match(metrics, /http_server_request_duration_seconds_count\{[^}]*http_route="\/model"[^}]*version="2"[^}]*\} 20/);
  });

  it("keeps splitting a sticky route itself, since the backend's split is per call", async () => {
    const sticky = gatewaySpec({ v1: 50, v2: 50 });
    const route = sticky.routes["POST /model"].target;
    if (route.kind === "model") route.sticky = true;
    await gateway.reload(sticky, {
      kind: "remote",
      endpoints: { ...endpointsFor(sticky, central, edge), canaries: { "POST /model": { central: alias.url } } },
    });
    const before = alias.received.length;
    const res = await post(base, "/model", { inputs: { x: [[1]] } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("x-cloudloom-version") ?? "", /^[12]$/);
    assert.equal(alias.received.length, before);
  });
});
