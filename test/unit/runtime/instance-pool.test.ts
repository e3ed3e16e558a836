import assert from "node:assert/strict";
import { InstancePool } from "../../../runtime/instance-pool";
import { until } from "../../support/until";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("InstancePool", () => {
  it("starts the floor on warm(), cold-starts above it, and caps at max", async () => {
    let loaded = 0;
    const pool = new InstancePool({ min: 1, max: 2, slotsPerInstance: 1, idleWindowMs: 10_000, load: async () => ++loaded });
    await pool.warm();
    assert.equal(pool.size, 1);
    const a = await pool.acquire();
    const b = await pool.acquire();
    assert.deepEqual([a.cold, b.cold], [false, true]);
    let third = false;
    const waiting = pool.acquire().then((lease) => ((third = true), lease));
    await sleep(5);
    assert.equal(third, false, "a third caller must wait at max");
    pool.release(a);
    const c = await waiting;
    assert.equal(c.instance, a.instance);
    assert.equal(pool.size, 2);
    await pool.close();
  });

  it("unloads idle instances above the floor after the idle window (scale to zero)", async () => {
    const unloaded: number[] = [];
    const pool = new InstancePool({
      min: 0,
      max: 1,
      slotsPerInstance: 2,
      idleWindowMs: 30,
      load: async () => 1,
      unload: (i) => void unloaded.push(i),
    });
    const lease = await pool.acquire();
    assert.equal(lease.cold, true);
    pool.release(lease);
    assert.equal(pool.size, 1);
    await sleep(60);
    assert.equal(pool.size, 0);
    assert.deepEqual(unloaded, [1]);
    assert.equal((await pool.acquire()).cold, true);
  });

  it("warmOne() loads one instance for every caller waiting on a pool at zero, and its first lease reports the cold start", async () => {
    let loads = 0;
    let finishLoad!: () => void;
    const pool = new InstancePool({
      min: 0,
      max: 3,
      slotsPerInstance: 1,
      idleWindowMs: 10_000,
      load: () => new Promise<number>((resolve) => (finishLoad = () => resolve(++loads))),
    });
    const first = pool.warmOne();
    const second = pool.warmOne();
    assert.equal(pool.size, 0, "nothing loaded until the load finishes");
    finishLoad();
    await Promise.all([first, second]);
    assert.equal(loads, 1, "one start for everyone waiting");
    assert.equal(pool.size, 1);
    await pool.warmOne();
    assert.equal(loads, 1, "a loaded pool starts nothing");
    const lease = await pool.acquire();
    assert.equal(lease.cold, true, "the call that waited for the start says so");
    assert.ok(lease.coldStartMs >= 0);
    pool.release(lease);
    assert.equal((await pool.acquire()).cold, false, "only the first lease reports it");
    await pool.close();
  });

  it("warmOne() rejects with the load's error and tries again on the next call", async () => {
    let attempts = 0;
    const pool = new InstancePool({
      min: 0,
      max: 1,
      slotsPerInstance: 1,
      idleWindowMs: 10_000,
      load: async () => {
        if (++attempts === 1) throw new Error("the handler failed to load");
        return attempts;
      },
    });
    await assert.rejects(pool.warmOne(), /failed to load/);
    await pool.warmOne();
    assert.equal(pool.size, 1);
    await pool.close();
  });

  it("keeps an instance warmOne() loaded for the declared idle window, even after the keep-alive policy chose to unload at once", async () => {
    const unloadAtOnce = { name: "unload-now", observe: () => undefined, decide: () => ({ prewarm: 30, keepAlive: 1, reason: "test" }) };
    const pool = new InstancePool({
      min: 0,
      max: 1,
      slotsPerInstance: 1,
      idleWindowMs: 60_000,
      keepAlive: unloadAtOnce,
      load: async () => 1,
    });
    pool.release(await pool.acquire());
    while (pool.size > 0) await sleep(5);
    await pool.warmOne();
    await sleep(30);
    assert.equal(pool.size, 1, "the instance held callers wait for is still there when they are sent on");
    await pool.close();
  });

  it("fails a caller still waiting when the pool closes", async () => {
    const pool = new InstancePool({ min: 0, max: 1, slotsPerInstance: 1, idleWindowMs: 10_000, load: async () => 1 });
    await pool.acquire();
    const waiting = pool.acquire();
    await pool.close();
    await assert.rejects(waiting, /the pool closed before an instance was free/);
    await assert.rejects(pool.acquire(), /the pool is closed/);
  });

  describe("evicting an instance that died", () => {
    it("forgets it, never hands it out again, and starts a replacement up to the floor", async () => {
      let loaded = 0;
      const unloaded: number[] = [];
      const pool = new InstancePool({
        min: 1,
        max: 1,
        slotsPerInstance: 1,
        idleWindowMs: 10_000,
        load: async () => ++loaded,
        unload: (i) => void unloaded.push(i),
      });
      await pool.warm();
      const lease = await pool.acquire();
      pool.evict(lease.instance);
      pool.release(lease); // the batch that was running on it ends after it died
      await until(() => pool.size === 1);
      assert.deepEqual(pool.instances, [2]);
      assert.deepEqual(unloaded, [1]);
      const next = await pool.acquire();
      assert.equal(next.instance, 2);
      pool.release(next);
      await pool.close();
    });

    it("gives a caller waiting at max a fresh instance (a cold start)", async () => {
      let loaded = 0;
      const pool = new InstancePool({ min: 0, max: 1, slotsPerInstance: 1, idleWindowMs: 10_000, load: async () => ++loaded });
      const busy = await pool.acquire();
      const waiting = pool.acquire();
      pool.evict(busy.instance);
      const lease = await waiting;
      assert.equal(lease.instance, 2);
      assert.equal(lease.cold, true);
      pool.release(busy);
      assert.deepEqual(pool.instances, [2]);
      await pool.close();
    });

    /** A pool whose first load works and every later one fails, reporting background failures in `failures`. */
    function failingAfterFirst(failures: string[]) {
      let loads = 0;
      return new InstancePool({
        min: 1,
        max: 1,
        slotsPerInstance: 1,
        idleWindowMs: 10_000,
        load: async () => {
          if (++loads > 1) throw new Error(`load ${loads} failed`);
          return loads;
        },
        onBackgroundLoadFailed: (error) => failures.push((error as Error).message),
      });
    }

    it("rejects the caller waiting for a replacement that cannot load", async () => {
      const failures: string[] = [];
      const pool = failingAfterFirst(failures);
      await pool.warm();
      const busy = await pool.acquire();
      const waiting = pool.acquire();
      pool.evict(busy.instance);
      await assert.rejects(waiting, /load 2 failed/);
      pool.release(busy);
      assert.equal(pool.size, 0);
      assert.deepEqual(failures, [], "the caller was told, so nothing is reported twice");
      await pool.close();
    });

    it("reports a floor refill that cannot load, and keeps no instance it does not have", async () => {
      const failures: string[] = [];
      const pool = failingAfterFirst(failures);
      await pool.warm();
      pool.evict(pool.instances[0]);
      await until(() => failures.length === 1);
      assert.deepEqual(failures, ["load 2 failed"]);
      assert.equal(pool.size, 0);
      await pool.close();
    });

    it("starts nothing once the pool is closed", async () => {
      let loaded = 0;
      const pool = new InstancePool({ min: 1, max: 1, slotsPerInstance: 1, idleWindowMs: 10_000, load: async () => ++loaded });
      await pool.warm();
      const [instance] = pool.instances;
      await pool.close();
      pool.evict(instance); // a replacement would start loading right here
      assert.equal(loaded, 1);
      assert.equal(pool.size, 0);
    });
  });
});
