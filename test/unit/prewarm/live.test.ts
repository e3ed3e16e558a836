import assert from "node:assert/strict";
import { mock } from "node:test";
import { InstancePool } from "../../../runtime/instance-pool";
import { metricsRegistry, RuntimeMetrics } from "../../../runtime/metrics";
import { poolSizing } from "../../../runtime/sizing";
import { CloudloomPolicy } from "../../../sdk/prewarm/cloudloom";
import example from "../../../examples/support-desk/app";

const MINUTE = 60_000;

describe("live pre-warm in the local runtime (fake timers)", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 }));
  afterEach(() => mock.timers.reset());

  /** Lets the pool's promise chains (load, park) run after a timer fired. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

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
    // Calls 0-1 teach two idle times of 30 minutes (the 2-hour fallback keeps call 1 warm); from then on every call is warm.
    assert.deepEqual(cold, [true, false, false, false, false, false, false, false]);
    assert.ok(prewarms.length >= 5, `pre-warmed ahead of each predicted call (${prewarms.length})`);
    assert.match(prewarms[0], /periodic: the last \d idle times are 30 ± 1 min/);
    assert.ok(idle > 0 && idle < 8 * 30 * 60, `wasted warm seconds are counted (${idle.toFixed(0)} s)`);
    await pool.close();
  });

  it("turns on for scaling policies that declare prewarm with scale-to-zero, and reports to /metrics", async () => {
    const spec = example.toSpec();
    assert.ok(poolSizing(spec.scalingPolicies.bursty).keepAlive instanceof CloudloomPolicy, "bursty declares prewarm");
    assert.equal(poolSizing(spec.scalingPolicies.interactive).keepAlive, undefined, "interactive keeps a floor instead");
    const metrics = new RuntimeMetrics(metricsRegistry());
    const events = metrics.events(() => {});
    events.onPrewarm!("intent@1", "central");
    events.onWarmIdle!("intent@1", "central", 42);
    const text = await metrics.registry.metrics();
    assert.match(text, /cloudloom_prewarms_total\{entry="intent@1",region="central"\} 1/);
    assert.match(text, /cloudloom_warm_idle_seconds_total\{entry="intent@1",region="central"\} 42/);
  });
});
