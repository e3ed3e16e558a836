import assert from "node:assert/strict";
import { join } from "node:path";
import { mock } from "node:test";
import { InstancePool } from "../../../runtime/instance-pool";
import { metricsRegistry, RuntimeMetrics } from "../../../runtime/metrics";
import { LocalRuntime } from "../../../runtime/runtime";
import { poolSizing } from "../../../runtime/sizing";
import { App } from "../../../sdk";
import { CLOUDLOOM_DEFAULTS, CloudloomPolicy } from "../../../sdk/prewarm/cloudloom";
import type { KeepAlivePolicy, Window } from "../../../sdk/prewarm/policies";
import example from "../../../examples/support-desk/app";

const MINUTE = 60_000;

/** Lets the pool's promise chains (load, park) run after a timer fired. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("live pre-warm in the local runtime (fake timers)", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 }));
  afterEach(() => mock.timers.reset());

  async function call(pool: InstancePool<string>): Promise<boolean> {
    const lease = await pool.acquire();
    pool.release(lease);
    return lease.cold;
  }

  it("learns a 30-minute period: warm at minute 29, and cold-start-free after learning", async () => {
    const prewarms: string[] = [];
    let idle = 0;
    const pool = new InstancePool<string>({
      min: 0,
      max: 2,
      slotsPerInstance: 1,
      idleWindowMs: 15 * MINUTE,
      keepAlive: new CloudloomPolicy(),
      load: async () => "instance",
      onPrewarm: (window) => prewarms.push(window.reason),
      onWarmIdle: (seconds) => (idle += seconds),
    });
    const cold: boolean[] = [];
    for (let k = 0; k < 8; k++) {
      cold.push(await call(pool));
      mock.timers.tick(10 * MINUTE);
      await settle();
      if (k >= 3) assert.equal(pool.size, 0, `unloaded between calls once the period is known (call ${k})`);
      mock.timers.tick(19 * MINUTE);
      await settle();
      if (k >= 2) assert.equal(pool.size, 1, `warm at minute 29 after call ${k}`);
      mock.timers.tick(MINUTE);
      await settle();
    }
    // Calls 0-1 teach two idle times of 30 minutes (the 110-minute fallback keeps call 1 warm); from then on every call is warm.
    assert.deepEqual(cold, [true, false, false, false, false, false, false, false]);
    assert.ok(prewarms.length >= 5, `pre-warmed ahead of each predicted call (${prewarms.length})`);
    assert.match(prewarms[0], /periodic: the last \d idle times are 30 ± 1 min/);
    assert.ok(idle > 0 && idle < 8 * 30 * 60, `wasted warm seconds are counted (${idle.toFixed(0)} s)`);
    await pool.close();
  });

  it("tells the policy idle times in whole minutes, once per minute with calls, as the replay does", async () => {
    const observed: number[] = [];
    const recorder: KeepAlivePolicy = {
      name: "recorder",
      observe: (idle) => void observed.push(idle),
      decide: (): Window => ({ prewarm: 0, keepAlive: 60, reason: "keep" }),
    };
    const pool = new InstancePool<string>({
      min: 0,
      max: 1,
      slotsPerInstance: 4,
      idleWindowMs: MINUTE,
      keepAlive: recorder,
      load: async () => "i",
    });
    await call(pool); // 00:00
    mock.timers.tick(20_000);
    await call(pool); // 00:20, the same minute: not an idle time
    mock.timers.tick(50_000);
    await call(pool); // 01:10: one minute later
    mock.timers.tick(3 * MINUTE);
    await call(pool); // 04:10
    assert.deepEqual(observed, [1, 3]);
    await pool.close();
  });

  it("gives the live policy the entry's memory, as the replay gives each unit its own", () => {
    const spec = example.toSpec();
    const keep = (memoryMb: number) => (poolSizing(spec.scalingPolicies.bursty, memoryMb).keepAlive as CloudloomPolicy).fallback();
    assert.ok(poolSizing(spec.scalingPolicies.bursty, 512).keepAlive instanceof CloudloomPolicy, "bursty declares prewarm");
    assert.equal(poolSizing(spec.scalingPolicies.interactive, 512).keepAlive, undefined, "interactive keeps a floor instead");
    assert.equal(keep(CLOUDLOOM_DEFAULTS.referenceMb), CLOUDLOOM_DEFAULTS.fallbackKeepAlive, "the reference unit keeps the tuned fallback");
    assert.ok(keep(4096) < keep(512) && keep(512) < keep(16), "heavier entries are kept warm for less while the policy learns");
    assert.equal(poolSizing(spec.scalingPolicies.bursty, 512).memoryMb, 512);
  });

  it("shows the replay's two numbers on the runtime's /metrics: cold-start share and warm idle memory-seconds", async () => {
    const app = new App("live-metrics", { root: join(__dirname, "../../fixtures/local-app") });
    const central = app.region("central", { kind: "central", placement: {} });
    const bursty = app.scalingPolicy("bursty", {
      maxInstances: 2,
      targetConcurrency: 4,
      scaleToZero: { idleWindow: "15 minutes" },
      prewarm: { leadTime: "2 minutes" },
    });
    const echo = app.function("echo", { handler: "headers.ts", memory: "256 MB", regions: [central], scaling: bursty });
    app.route("POST /echo", { target: echo, auth: "none" });
    const metrics = new RuntimeMetrics(metricsRegistry());
    const runtime = new LocalRuntime(
      app.toDraft(),
      app.root,
      metrics.events(() => {}),
    );
    const invoke = async () =>
      (await runtime.invoke("echo", "central", { method: "POST", path: "/echo", headers: {}, query: {}, body: null }, "r")).cold;
    try {
      assert.equal(await invoke(), true, "the first call starts the instance");
      mock.timers.tick(10 * MINUTE);
      await settle();
      assert.equal(await invoke(), false, "the policy kept it warm for the 10 idle minutes");
      assert.equal(await invoke(), false);
      const text = await metrics.registry.metrics();
      const labels = 'entry="echo",region="central"';
      assert.match(text, new RegExp(`cloudloom_pool_calls_total\\{${labels},start="cold"\\} 1\\n`));
      assert.match(text, new RegExp(`cloudloom_pool_calls_total\\{${labels},start="warm"\\} 2\\n`));
      assert.match(text, new RegExp(`cloudloom_cold_start_share\\{${labels}\\} 0.3333333333333333\\n`));
      // 600 idle seconds of a 256 MB instance, and the instant between the second and third call.
      assert.match(text, new RegExp(`cloudloom_warm_idle_seconds_total\\{${labels}\\} 600\\n`));
      assert.match(text, new RegExp(`cloudloom_warm_idle_megabyte_seconds_total\\{${labels}\\} 153600\\n`));
    } finally {
      await runtime.close();
    }
  });
});
