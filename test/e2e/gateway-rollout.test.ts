import assert from "node:assert/strict";
import { StubUpstream } from "../support/upstream";
import {
  ADMIN_KEY,
  drive,
  failOneIn,
  logged,
  ManualClock,
  phaseOf,
  rolloutSource,
  rolloutSpec,
  ROUTE,
  startRolloutGateway,
  statusAt,
  type RolloutGateway,
} from "../support/rollout";

describe("progressive rollout on one gateway (state in memory)", () => {
  let upstream: StubUpstream;
  let started: RolloutGateway | undefined;
  beforeEach(async () => {
    upstream = await new StubUpstream("central").start();
  });
  afterEach(async () => {
    await started?.close();
    started = undefined;
    await upstream.kill();
  });

  it("rolls a new version that fails 5 % of its requests back to 0 % within its first step, and says why", async () => {
    failOneIn(upstream, "2", 20);
    // A short real interval: had a step met its gate, the rollout would have advanced long before the traffic ran out.
    started = await startRolloutGateway(rolloutSpec({ interval: "200 ms" }), upstream);
    const { base, gateway, lines } = started;

    await drive(base, async () => (await phaseOf(gateway)) === "rolled-back");

    const status = await statusAt(base);
    assert.deepEqual(
      status.history.map((t) => [t.kind, t.step, t.weight]),
      [
        ["started", 1, 10],
        ["rolled-back", 1, 0],
      ],
    );
    assert.deepEqual(status.weights, { "1": 100, "2": 0 });
    assert.match(status.reason ?? "", /version 2: error rate \d+\.\d\d% is over maxErrorRate 1\.00%/);
    const after = await drive(base, (served) => (served["1"] ?? 0) + (served["2"] ?? 0) >= 30);
    assert.deepEqual(after, { "1": 30 }, "after the rollback every request goes to the version it replaced");

    const [line] = logged(lines, "rolled-back");
    assert.equal(line.level, 40, "a rollback is logged at warn");
    assert.equal(line.rollout, ROUTE);
    assert.deepEqual(line.weights, { "1": 100, "2": 0 });
    assert.ok(line.evidence["2"].requests >= 20 && line.evidence["2"].errors >= 1, JSON.stringify(line.evidence));
    assert.ok(line.evidence["2"].errorRate > 0.01);
    assert.equal(typeof line.evidence["1"].p99Ms, "number");
    assert.deepEqual(line.gate, { maxErrorRate: "1%", maxP99: "2 seconds", minRequests: 20 });

    const metrics = await gateway.metrics.registry.metrics();
    assert.match(metrics, /cloudloom_rollout_weight_percent\{route="POST \/model",version="2"\} 0/);
    assert.match(metrics, /cloudloom_rollout_phase\{route="POST \/model",phase="rolled-back"\} 1/);
    assert.match(metrics, /cloudloom_rollout_transitions_total\{route="POST \/model",transition="rolled-back"\} 1/);
  });

  it("takes a healthy version to 100 % step by step, logging each transition with its evidence", async () => {
    started = await startRolloutGateway(rolloutSpec({ interval: "200 ms" }), upstream);
    const { base, gateway, lines } = started;

    await drive(base, async () => (await phaseOf(gateway)) === "succeeded");

    const status = await statusAt(base);
    assert.deepEqual(
      status.history.map((t) => [t.kind, t.step, t.weight]),
      [
        ["started", 1, 10],
        ["advanced", 2, 50],
        ["succeeded", 3, 100],
      ],
    );
    assert.deepEqual(status.weights, { "1": 0, "2": 100 });
    assert.deepEqual(await drive(base, (served) => (served["2"] ?? 0) >= 20), { "2": 20 });
    for (const kind of ["advanced", "succeeded"]) {
      const [line] = logged(lines, kind);
      assert.equal(line.level, 30);
      assert.ok(line.evidence["2"].requests >= 20, JSON.stringify(line));
      assert.equal(line.evidence["2"].errors, 0);
      assert.match(line.reason, /met its gate over \d+ requests/);
    }
    assert.deepEqual(logged(lines, "advanced")[0].from, { step: 1, weights: { "1": 90, "2": 10 } });

    const metrics = await gateway.metrics.registry.metrics();
    assert.match(metrics, /cloudloom_rollout_step\{route="POST \/model"\} 3/);
    assert.match(metrics, /cloudloom_rollout_weight_percent\{route="POST \/model",version="1"\} 0/);
    assert.match(metrics, /cloudloom_rollout_weight_percent\{route="POST \/model",version="2"\} 100/);
    assert.match(metrics, /cloudloom_rollout_phase\{route="POST \/model",phase="succeeded"\} 1/);
  });

  it("waits while the new version has served fewer than minRequests in the step, however long the step lasts", async () => {
    started = await startRolloutGateway(rolloutSpec({ interval: "50 ms", gate: { maxErrorRate: "1%", minRequests: 1_000 } }), upstream);
    const { base, gateway } = started;
    await drive(base, (served) => (served["2"] ?? 0) >= 5);
    await gateway.rollouts.tick();
    const status = await statusAt(base);
    assert.equal(status.phase, "progressing");
    assert.equal(status.step, 1);
    assert.match(status.waiting ?? "", /has served \d+ of the 1000 requests a step needs/);
    assert.ok(status.observed!["2"].requests >= 5);
  });

  it("keeps its step across a configuration reload, judging by the new gate,, and forgets a rollout the new spec drops", async () => {
    const clock = new ManualClock();
    started = await startRolloutGateway(rolloutSpec(), upstream, { now: clock.now });
    const { base, gateway } = started;
    await drive(base, (served) => (served["2"] ?? 0) >= 20);
    clock.advance(60_000);
    while ((await statusAt(base)).step !== 2) await gateway.rollouts.tick();

    await gateway.reload(rolloutSpec({ gate: { maxErrorRate: "2%", minRequests: 20 } }), rolloutSource(upstream));
    const reloaded = await statusAt(base);
    assert.deepEqual([reloaded.step, reloaded.weights], [2, { "1": 50, "2": 50 }]);
    assert.deepEqual(reloaded.gate, { maxErrorRate: "2%", minRequests: 20 }, "the new gate judges from now on");
    const served = await drive(base, (s) => (s["1"] ?? 0) + (s["2"] ?? 0) >= 60);
    assert.ok(served["1"] > 0 && served["2"] > 0, `the new table serves the rollout's weights: ${JSON.stringify(served)}`);

    const plain = rolloutSpec();
    delete plain.routes[ROUTE].rollout;
    await gateway.reload(plain, rolloutSource(upstream));
    assert.deepEqual(await gateway.rollouts.status(), []);
    assert.deepEqual(await drive(base, (s) => (s["1"] ?? 0) >= 10), { "1": 10 }, "the declared weights again");
    assert.doesNotMatch(await gateway.metrics.registry.metrics(), /cloudloom_rollout_step\{/);
  });

  it("refuses the rollout endpoints without the admin key, with a wrong one, and on a gateway that has none", async () => {
    started = await startRolloutGateway(rolloutSpec(), upstream);
    const { base } = started;
    const call = (path: string, init: RequestInit = {}) => fetch(`${base}/_cloudloom/rollouts${path}`, init);
    for (const [path, init] of [
      ["", {}],
      ["/pause", { method: "POST" }],
      ["", { headers: { "x-admin-key": "wrong-key-0123456789" } }],
      ["/abort", { method: "POST", headers: { "x-admin-key": "wrong-key-0123456789" } }],
    ] as const) {
      const response = await call(path, init);
      assert.equal(response.status, 401, `${path} ${JSON.stringify(init)}`);
      assert.equal(((await response.json()) as any).error.code, "UNAUTHORIZED");
    }
    assert.equal((await statusAt(base)).phase, "progressing", "nothing was paused or aborted");

    const headers = { "x-admin-key": ADMIN_KEY };
    const unknown = await call("/promote", { method: "POST", headers });
    assert.equal(unknown.status, 404);
    const noRoute = await call(`?route=${encodeURIComponent("POST /nothing")}`, { headers });
    assert.equal(noRoute.status, 404);
    const twoRoutes = await call(`?route=a&route=b`, { headers });
    assert.equal(twoRoutes.status, 400);
    assert.equal(((await twoRoutes.json()) as any).error.code, "INVALID_INPUT");
    const named = await call(`?route=${encodeURIComponent(ROUTE)}`, { headers });
    assert.equal(named.status, 200);

    await started.close();
    started = await startRolloutGateway(rolloutSpec(), upstream, { adminKey: null });
    const keyless = await fetch(`${started.base}/_cloudloom/rollouts`, { headers });
    assert.equal(keyless.status, 401, "no admin key configured: every admin request is refused");
  });
});
