/**
 * The cache runs before the hold (gateway/pipeline.ts), over real sockets on
 * 127.0.0.1: a cached route whose backend is at zero answers what it has
 * cached at once, while a miss (the backend call the cache makes) is held
 * and counted in the target's demand until the backend is back.
 */
import assert from "node:assert/strict";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { App, type SpecV1 } from "../../sdk";
import { HELD_HEADER } from "../../runtime/contract";
import { freePort } from "../support/redis";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN, scrape } from "../support/metrics-token";

/** `GET /cold`, cached for a minute, to function "cold" under a scale-to-zero policy that holds. */
function cachedHoldingSpec(): SpecV1 {
  const app = new App("hold-cache");
  const central = app.region("central", { kind: "central", placement: {} });
  const policy = app.scalingPolicy("zero", {
    maxInstances: 2,
    targetConcurrency: 1,
    scaleToZero: { idleWindow: "5 minutes" },
    hold: { maxPending: 10, maxWait: "60 seconds" },
  });
  const cold = app.function("cold", { handler: "cold.ts", regions: [central], scaling: policy });
  app.route("GET /cold", { target: cold, auth: "none", cache: { ttl: "1 minute" } });
  return app.toSpec({ root: undefined });
}

const DEMAND = "/metrics/demand?kind=function&entry=cold&region=central";

describe("gateway: a cache hit never waits for a cold target; a miss is held (real sockets)", function () {
  this.timeout(120_000);
  let composed: ComposedGateway | undefined;
  let upstream: StubUpstream | undefined;
  let base = "";
  let port = 0;

  const get = (query: string) => fetch(`${base}/cold?${query}`);
  const pending = async () => ((await (await scrape(`${base}${DEMAND}`)).json()) as { pending: number }).pending;
  const untilHeld = async (n: number) => {
    while ((await pending()) !== n) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const functionCalls = () => upstream!.received.filter((r) => r.path.startsWith("/_cloudloom/functions/cold"));

  beforeEach(async () => {
    port = await freePort();
    composed = composeGateway({
      spec: cachedHoldingSpec(),
      settings: parseSettings({ health: { probeIntervalMs: 60_000 }, logSampleRate: 0, metricsToken: METRICS_TOKEN }),
      source: { kind: "remote", endpoints: { functions: { cold: { central: `http://127.0.0.1:${port}` } }, models: {} } },
      logger: pino({ level: "silent" }),
    });
    base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
  });

  afterEach(async () => {
    await composed?.close();
    await upstream?.kill();
    composed = undefined;
    upstream = undefined;
  });

  it("answers a cached request at once, unheld, while uncached ones wait for the backend, counted as its demand", async () => {
    upstream = await new StubUpstream("cold").start(port);
    const first = await get("q=cached");
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-cache"), "MISS");
    const cachedBody = await first.text();
    await upstream.kill();

    // A miss is refused (the backend went to zero), ejects it, and waits in the hold.
    const refusedMiss = get("q=first-miss");
    await untilHeld(1);
    // A miss while the target is known to be cold waits in the hold before its backend call.
    const heldMiss = get("q=second-miss");
    await untilHeld(2);

    const hit = await get("q=cached");
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get("x-cache"), "HIT");
    assert.equal(hit.headers.get(HELD_HEADER), null, "a hit is not held");
    assert.equal(await hit.text(), cachedBody);
    assert.equal(await pending(), 2, "the hit neither waited nor counted as pending");

    upstream = await new StubUpstream("cold").start(port);
    for (const response of await Promise.all([refusedMiss, heldMiss])) {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-cache"), "MISS");
      assert.match(String(response.headers.get(HELD_HEADER)), /^\d+$/, "a miss says it was held");
    }
    assert.equal(functionCalls().length, 2, "each miss reached the backend once, the hit never");
    const after = (await (await scrape(`${base}${DEMAND}`)).json()) as { pending: number; inFlight: number };
    assert.deepEqual([after.pending, after.inFlight], [0, 0], "every held miss released its count");
  });

  it("counts a miss's backend call in flight until it answers, and a hit not at all", async () => {
    upstream = await new StubUpstream("cold").start(port);
    let answer!: () => void;
    upstream.behaviour = { ...upstream.behaviour, hold: new Promise<void>((resolve) => (answer = resolve)) };
    const counts = async () => {
      const { pending, inFlight } = (await (await scrape(`${base}${DEMAND}`)).json()) as { pending: number; inFlight: number };
      return [pending, inFlight];
    };
    const miss = get("q=slow");
    while ((await counts())[1] !== 1) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(await counts(), [0, 1], "in flight, not held: the target was ready");
    answer();
    const response = await miss;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get(HELD_HEADER), null, "a ready target holds nothing");
    assert.deepEqual(await counts(), [0, 0]);
    const hit = await get("q=slow");
    assert.equal(hit.headers.get("x-cache"), "HIT");
    assert.deepEqual(await counts(), [0, 0], "the hit counted nowhere");
    assert.equal(functionCalls().length, 1, "the miss reached the backend once; the hit did not");
  });
});
