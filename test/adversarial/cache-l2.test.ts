import assert from "node:assert/strict";
import Redis from "ioredis";
import { gatewayRig, KEY_A, post } from "../support/gateway-app";

describe("the Redis L2 keys variants as the L1 does (issue hole 4)", () => {
  const rig = gatewayRig({ instances: 2, redis: true });
  let probe: Redis | undefined;
  beforeEach(() => void (probe = new Redis(rig.redis!.url)));
  afterEach(() => probe?.disconnect());

  /** Waits until the L2 holds `count` entries: a write the response did not wait for has landed. */
  async function entries(count: number): Promise<void> {
    while ((await probe!.keys("cl:cache:*")).length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  it("never hands another instance a variant its headers do not select, and shares the one they do", async () => {
    const [one, two] = rig.gateways;
    rig.central.behaviour = {
      status: 200,
      headers: { vary: "x-tier" },
      delayMs: 0,
      body: (req) => ({ tier: req.headers["x-tier"] ?? "free" }),
    };
    const gold = await post(one.base, "/echo?page=1", { q: 1 }, KEY_A, { "x-tier": "gold" });
    assert.equal(gold.headers.get("x-cache"), "MISS");
    await entries(1);
    // Instance two stores something of its own, which shows its Redis client is up.
    await post(two.base, "/echo", { warm: true }, KEY_A);
    await entries(2);

    const free = await post(two.base, "/echo?page=1", { q: 1 }, KEY_A);
    assert.equal(free.headers.get("x-cache"), "MISS");
    assert.deepEqual(await free.json(), { tier: "free" });
    const shared = await post(two.base, "/echo?page=1", { q: 1 }, KEY_A, { "x-tier": "gold" });
    assert.equal(shared.headers.get("x-cache"), "HIT", "instance two takes gold from the L2");
    assert.deepEqual(await shared.json(), { tier: "gold" });
    assert.equal(rig.central.received.length, 3);
  });
});
