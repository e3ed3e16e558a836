/**
 * Hole 6: a request refused with CONCURRENCY_LIMIT must not free a slot it
 * never took. The attack holds `limit` slow requests at the upstream and
 * floods the gateway with fast ones; only admitted requests may release.
 */
import assert from "node:assert/strict";
import type { Gateway } from "../../gateway/gateway";
import { gatewaySpec, post, startGateway } from "../support/gateway-app";
import { until } from "../support/until";
import { StubUpstream } from "../support/upstream";

const LIMIT = 8;

describe("concurrency cap under a flood of refused requests (hole 6)", () => {
  let central: StubUpstream;
  let edge: StubUpstream;
  let gateway: { gateway: Gateway; base: string; close: () => Promise<void> };
  const releases: Array<() => void> = [];

  /** Makes the upstream hold the next request until the returned release is called. */
  const holdNext = () => {
    const hold = new Promise<void>((resolve) => releases.push(resolve));
    central.behaviour = { status: 200, headers: {}, delayMs: 0, hold };
  };

  beforeEach(async () => {
    central = await new StubUpstream("central").start();
    edge = await new StubUpstream("edge").start();
    gateway = await startGateway(gatewaySpec(), central, edge, { limits: { perKeyConcurrency: LIMIT } });
  });
  afterEach(async () => {
    for (const release of releases.splice(0)) release();
    await gateway?.close();
    await central?.kill();
    await edge?.kill();
  });

  it("keeps the upstream at the cap while 200 refused requests come and go, and frees a slot only when an admitted request ends", async () => {
    const { base } = gateway;
    const held: Array<Promise<Response>> = [];
    for (let i = 0; i < LIMIT; i++) {
      holdNext();
      held.push(post(base, "/open", { held: i }));
      await until(() => central.received.length === i + 1);
    }
    // Anything admitted from now on is held too, so it would show at the upstream.
    holdNext();
    // An admitted flood request would be held forever, so each batch also ends as soon as the upstream sees one more than the cap.
    let flooding = true;
    const breach = until(() => !flooding || central.received.length > LIMIT).then(() => "breach" as const);
    const refused: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.race([
        Promise.all(Array.from({ length: 20 }, (_, i) => post(base, "/open", { flood: batch * 20 + i }))),
        breach,
      ]);
      if (responses === "breach")
        assert.fail(
          `the upstream saw ${central.received.length} requests in flight against a cap of ${LIMIT} after ${refused.length} refusals`,
        );
      for (const response of responses) {
        refused.push(response.status);
        if (response.status === 429) assert.equal(((await response.json()) as { error: { code: string } }).error.code, "CONCURRENCY_LIMIT");
      }
    }
    flooding = false;
    assert.equal(refused.filter((s) => s === 429).length, 200, `only ${refused.filter((s) => s === 429).length} of 200 were refused`);
    assert.equal(
      central.received.length,
      LIMIT,
      `the upstream saw ${central.received.length} requests in flight against a cap of ${LIMIT}`,
    );
    assert.equal((await post(base, "/open")).status, 429, "the cap still holds after the flood");

    releases[0]();
    assert.equal((await held[0]).status, 200);
    const admitted = post(base, "/open", { after: "release" });
    await until(() => central.received.length === LIMIT + 1);
    assert.equal((await post(base, "/open")).status, 429, "one finished request frees exactly one slot");

    for (const release of releases) release();
    assert.deepEqual(
      (await Promise.all([...held.slice(1), admitted])).map((r) => r.status),
      Array(LIMIT).fill(200),
    );
    assert.equal((await post(base, "/open")).status, 200, "every slot is free again");
  });
});
