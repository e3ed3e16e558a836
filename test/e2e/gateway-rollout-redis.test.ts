import assert from "node:assert/strict";
import Redis from "ioredis";
import { redisForSuite, type RedisServer } from "../support/redis";
import { StubUpstream } from "../support/upstream";
import {
  ADMIN_KEY,
  drive,
  logged,
  ManualClock,
  rolloutSpec,
  ROUTE,
  startRolloutGateway,
  statusAt,
  type RolloutGateway,
} from "../support/rollout";

const MINUTE = 60_000;

describe("progressive rollout across gateway instances sharing a real redis-server", () => {
  let redis: RedisServer | undefined;
  let upstream: StubUpstream;
  let clock: ManualClock;
  let gateways: RolloutGateway[];
  const start = async () => {
    const started = await startRolloutGateway(rolloutSpec(), upstream, { redis: redis!.url, now: clock.now });
    gateways.push(started);
    return started;
  };
  /** One sync of every running instance at once, as their timers would run them. */
  const tickAll = () => Promise.all(gateways.map(({ gateway }) => gateway.rollouts.tick()));
  /**
   * Syncs every instance until `holds` does: a sync already under way when the
   * test's last request finished may have flushed before it, and another
   * instance's counts may land just after a judgement, so one round is not enough.
   */
  const eventually = async (holds: () => Promise<boolean>) => {
    while (!(await holds())) await tickAll();
  };

  beforeEach(async function () {
    redis = await redisForSuite(this);
    upstream = await new StubUpstream("central").start();
    clock = new ManualClock();
    gateways = [];
  });
  afterEach(async () => {
    await redis?.thaw().catch(() => undefined);
    await Promise.all(gateways.map(({ close }) => close()));
    await upstream.kill();
    await redis?.stop();
  });

  it("judges the fleet's traffic, and exactly one of two instances makes each transition", async () => {
    const [a, b] = [await start(), await start()];
    // Each instance serves 12 requests of version 2: under minRequests (20) alone, over it together.
    await drive(a.base, (served) => served["2"] === 12);
    await drive(b.base, (served) => served["2"] === 12);
    // Both instances' counts are added up in Redis: the status (read from either) sees all 24.
    await eventually(async () => (await statusAt(b.base)).observed!["2"].requests === 24);
    const waiting = await statusAt(b.base);
    assert.equal(waiting.step, 1);
    assert.match(waiting.waiting ?? "", /lasts \d+ s more/, "enough requests, but the step's interval has not passed");

    clock.advance(MINUTE);
    await eventually(async () => (await statusAt(a.base)).step === 2 && (await statusAt(b.base)).step === 2);
    for (const { base } of [a, b]) {
      const status = await statusAt(base);
      assert.equal(status.step, 2);
      assert.deepEqual(status.weights, { "1": 50, "2": 50 }, "every instance serves the same weights");
    }

    await drive(a.base, (served) => served["2"] === 10);
    await drive(b.base, (served) => served["2"] === 10);
    clock.advance(MINUTE);
    await eventually(async () => (await statusAt(a.base)).phase === "succeeded" && (await statusAt(b.base)).phase === "succeeded");

    const lines = [...a.lines, ...b.lines];
    assert.equal(logged(lines, "started").length, 1);
    assert.equal(logged(lines, "advanced").length, 1);
    assert.equal(logged(lines, "succeeded").length, 1);
    const status = await statusAt(a.base);
    assert.deepEqual(
      status.history.map((t) => t.kind),
      ["started", "advanced", "succeeded"],
    );
    for (const transition of status.history) {
      const makers = [a, b].filter(({ lines }) => logged(lines, transition.kind).some((line) => line.instance === transition.instance));
      assert.equal(makers.length, 1, `${transition.kind} was made, and logged, by one instance`);
    }
    for (const { gateway } of [a, b])
      assert.match(
        await gateway.metrics.registry.getSingleMetricAsString("cloudloom_rollout_weight_percent"),
        /route="POST \/model",version="2"\} 100/,
      );
  });

  it("resumes at the same step when the gateway restarts mid-rollout", async () => {
    const first = await start();
    await drive(first.base, (served) => (served["2"] ?? 0) >= 20);
    clock.advance(MINUTE);
    await eventually(async () => (await statusAt(first.base)).step === 2);
    const before = await statusAt(first.base);
    assert.equal(before.step, 2);
    await first.close();
    gateways = [];

    const second = await start();
    await second.gateway.rollouts.tick();
    const after = await statusAt(second.base);
    assert.equal(after.phase, "progressing");
    assert.equal(after.step, 2);
    assert.deepEqual(after.weights, { "1": 50, "2": 50 });
    assert.equal(after.since, before.since, "the step's interval runs on from when it began");
    assert.deepEqual(after.history, before.history);
    assert.equal(logged(second.lines, "started").length, 0, "the restarted gateway started nothing over");
    assert.ok(second.lines.some((line) => line.msg === "rollout state applied" && line.step === 2));
    assert.match(await second.gateway.metrics.registry.getSingleMetricAsString("cloudloom_rollout_step"), /\} 2/);
  });

  it("keeps serving the last known weights, and never crashes, when Redis dies mid-rollout", async () => {
    const [a] = [await start()];
    await drive(a.base, (served) => (served["2"] ?? 0) >= 20);
    clock.advance(MINUTE);
    await eventually(async () => (await statusAt(a.base)).step === 2);

    await redis!.stop();
    // Enough traffic and time for another step: without its store the gateway must not judge.
    const served = await drive(a.base, (s) => (s["1"] ?? 0) + (s["2"] ?? 0) >= 60);
    assert.ok(served["1"] > 0 && served["2"] > 0, `both versions still serve at 50/50: ${JSON.stringify(served)}`);
    clock.advance(MINUTE);
    await a.gateway.rollouts.tick();
    await a.gateway.rollouts.tick();

    const status = await statusAt(a.base);
    assert.equal(status.stale, true);
    assert.equal(status.step, 2);
    assert.deepEqual(status.weights, { "1": 50, "2": 50 });
    const pause = await fetch(`${a.base}/_cloudloom/rollouts/pause`, { method: "POST", headers: { "x-admin-key": ADMIN_KEY } });
    assert.equal(pause.status, 503);
    assert.equal(((await pause.json()) as any).error.code, "STORE_UNAVAILABLE");
    assert.equal(a.lines.filter((line) => line.msg.startsWith("rollout store unavailable")).length, 1, "one warning per outage");
    assert.match(await a.gateway.metrics.registry.getSingleMetricAsString("cloudloom_rollout_step"), /\} 2/);
  });

  it("judges again once a stalled Redis answers, with the counts it could not flush meanwhile", async () => {
    const a = await start();
    await a.gateway.rollouts.tick();
    await redis!.freeze();
    await drive(a.base, (served) => (served["2"] ?? 0) >= 20);
    clock.advance(MINUTE);
    await a.gateway.rollouts.tick();
    assert.equal((await statusAt(a.base)).stale, true);
    await redis!.thaw();
    // The counts made while Redis stalled were kept, flushed and judged.
    await eventually(async () => (await statusAt(a.base)).step === 2);
    assert.equal((await statusAt(a.base)).stale, false);
    assert.ok(a.lines.some((line) => line.msg === "rollout store answers again; rollouts resume"));
  });

  it("never applies a state document it cannot parse, and keeps serving what it knew", async () => {
    const a = await start();
    await a.gateway.rollouts.tick();
    assert.deepEqual((await statusAt(a.base)).weights, { "1": 90, "2": 10 });
    const client = new Redis(redis!.url);
    try {
      const key = (await client.keys("cl:rollout:ro:state:*"))[0];
      await client.hset(key, "epoch", "7", "doc", JSON.stringify({ epoch: 7, phase: "succeeded", step: "x" }));
      await a.gateway.rollouts.tick();
      await a.gateway.rollouts.tick();
      const status = await statusAt(a.base);
      assert.equal(status.stale, true);
      assert.deepEqual(status.weights, { "1": 90, "2": 10 });
      assert.equal(a.lines.filter((line) => line.msg.startsWith("rollout state cannot be read")).length, 1);
      await client.hset(key, "doc", "{not json");
      await a.gateway.rollouts.tick();
      assert.equal(a.lines.filter((line) => line.msg.startsWith("rollout state cannot be read")).length, 2);
      const served = await drive(a.base, (s) => (s["1"] ?? 0) + (s["2"] ?? 0) >= 10);
      assert.equal((served["1"] ?? 0) + (served["2"] ?? 0), 10);
    } finally {
      client.disconnect();
    }
  });

  it("keeps a rollout's state under its app, route and the versions it moves between, beside the app's one lease", async () => {
    const a = await start();
    await a.gateway.rollouts.tick();
    const client = new Redis(redis!.url);
    try {
      const keys = (await client.keys("cl:rollout:*")).sort();
      assert.deepEqual(keys, ["cl:rollout:ro:lease", `cl:rollout:ro:state:${ROUTE}|1->2`]);
    } finally {
      client.disconnect();
    }
  });
});
