import assert from "node:assert/strict";
import { runCli } from "../support/cli";
import { freePort } from "../support/redis";
import { ADMIN_KEY, drive, ManualClock, rolloutSpec, ROUTE, startRolloutGateway, statusAt, type RolloutGateway } from "../support/rollout";
import { StubUpstream } from "../support/upstream";

describe("cloudloom rollout against a running gateway", () => {
  let upstream: StubUpstream;
  let started: RolloutGateway;
  let clock: ManualClock;
  const savedKey = process.env.CLOUDLOOM_ADMIN_KEY;
  const rollout = (...args: string[]) => runCli("rollout", ...args, "--gateway", started.base);

  beforeEach(async () => {
    process.env.CLOUDLOOM_ADMIN_KEY = ADMIN_KEY;
    upstream = await new StubUpstream("central").start();
    clock = new ManualClock();
    started = await startRolloutGateway(rolloutSpec(), upstream, { now: clock.now });
    await started.gateway.rollouts.tick();
  });
  afterEach(async () => {
    if (savedKey === undefined) delete process.env.CLOUDLOOM_ADMIN_KEY;
    else process.env.CLOUDLOOM_ADMIN_KEY = savedKey;
    await started.close();
    await upstream.kill();
  });

  it("shows a rollout's phase, step, weights and history", async () => {
    const { code, out } = await rollout("status");
    assert.equal(code, 0);
    assert.match(out, /^POST \/model: m 1 -> 2, progressing, step 1\/3, weights 1=90% 2=10%$/m);
    assert.match(out, /steps 10 -> 50 -> 100 every 1 minute; gate maxErrorRate 1%, maxP99 2 seconds, minRequests 20/);
    assert.match(out, /started \(step 1, 10%\)/);
    const json = await rollout("status", "--json", "--route", ROUTE);
    assert.equal(json.code, 0);
    assert.equal(JSON.parse(json.out)[0].route, ROUTE);
  });

  it("pauses (no step is judged), resumes, and aborts back to the old version", async () => {
    const paused = await rollout("pause");
    assert.equal(paused.code, 0, paused.err);
    assert.match(paused.out, /, paused, step 1\/3, weights 1=90% 2=10%/);

    // Traffic and time enough for the step, but a paused rollout is not judged.
    await drive(started.base, (served) => (served["2"] ?? 0) >= 20);
    clock.advance(120_000);
    await started.gateway.rollouts.tick();
    await started.gateway.rollouts.tick();
    assert.equal((await statusAt(started.base)).phase, "paused");
    assert.equal((await statusAt(started.base)).step, 1);

    const again = await rollout("pause");
    assert.equal(again.code, 1);
    assert.match(again.err, /CONFLICT: the rollout is paused; only a progressing rollout can pause/);

    const resumed = await rollout("resume");
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, /, progressing, step 1\/3/);
    const status = await statusAt(started.base);
    assert.equal(status.since, new Date(clock.time).toISOString(), "the step starts over on resume");

    const aborted = await rollout("abort");
    assert.equal(aborted.code, 0, aborted.err);
    assert.match(aborted.out, /, aborted, step 1\/3, weights 1=100% 2=0%/);
    assert.match(aborted.out, /aborted \(step 1, 0%\): the operator asked to abort it/);
    assert.deepEqual(await drive(started.base, (served) => (served["1"] ?? 0) >= 20), { "1": 20 });
    assert.deepEqual(
      (await statusAt(started.base)).history.map((t) => t.kind),
      ["started", "paused", "resumed", "aborted"],
    );
    const late = await rollout("resume");
    assert.equal(late.code, 1);
    assert.match(late.err, /CONFLICT: the rollout is aborted/);
    const abortLine = started.lines.find((line) => line.msg === "rollout aborted");
    assert.equal(abortLine?.reason, "the operator asked to abort it", "the operator's transitions are logged like the gate's");
    assert.equal(typeof abortLine?.evidence["2"].requests, "number", "with the step's evidence");
    assert.ok(!JSON.stringify(started.lines).includes(ADMIN_KEY), "the admin key is never logged");
  });

  it("refuses without the admin key, with a wrong one, for an unknown route, and says when the gateway is unreachable", async () => {
    delete process.env.CLOUDLOOM_ADMIN_KEY;
    const missing = await rollout("status");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /set CLOUDLOOM_ADMIN_KEY/);

    process.env.CLOUDLOOM_ADMIN_KEY = "wrong-key-0123456789";
    const wrong = await rollout("abort");
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /UNAUTHORIZED/);
    assert.equal((await statusAt(started.base)).phase, "progressing");

    process.env.CLOUDLOOM_ADMIN_KEY = ADMIN_KEY;
    const unknown = await rollout("pause", "--route", "POST /nothing");
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /NOT_FOUND/);
    const bad = await rollout("promote");
    assert.equal(bad.code, 2);
    const unreachable = await runCli("rollout", "status", "--gateway", `http://127.0.0.1:${await freePort()}`);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.err, /cannot reach the gateway/);
    const notUrl = await runCli("rollout", "status", "--gateway", "ftp://example");
    assert.equal(notUrl.code, 2);
  });
});
