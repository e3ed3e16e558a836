/**
 * Hole 10 across instances: with Redis, wrong keys from one address are
 * counted once for every gateway instance, so spreading guesses over
 * instances buys nothing; while Redis does not answer, each instance keeps
 * counting on its own, and a frozen Redis does not stall the refusal.
 */
import assert from "node:assert/strict";
import { gatewayRig, KEY_A, post } from "../support/gateway-app";

const from = (address: string) => ({ "x-forwarded-for": address });
const wrongKey = (i: number) => `wrong-key-${String(i).padStart(10, "0")}`;

describe("failed authentications counted in Redis (hole 10)", () => {
  const rig = gatewayRig({ instances: 2, redis: true, settings: { trustedProxies: ["127.0.0.1"] } });
  // Both clients connected: a fail-closed route answers from Redis (200), not 503.
  beforeEach(async () => {
    for (const { base } of rig.gateways)
      for (;;) {
        if ((await post(base, "/fail-closed", {}, undefined, from("192.0.2.1"))).status !== 503) break;
        await new Promise((r) => setTimeout(r, 20));
      }
  });

  it("holds one count of wrong keys across two instances", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push((await post(rig.gateways[i % 2].base, "/echo", { i }, wrongKey(i), from("198.51.100.1"))).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), "10 wrong keys in all, not 10 per instance");
    assert.deepEqual(statuses.slice(10), Array(20).fill(429));
    for (const { base } of rig.gateways) {
      assert.equal((await post(base, "/echo", {}, KEY_A, from("198.51.100.1"))).status, 429, "each instance now refuses the address");
      assert.equal((await post(base, "/echo", {}, KEY_A, from("198.51.100.2"))).status, 200);
    }
  });

  it("keeps limiting wrong keys per instance, without stalling, while Redis is frozen", async () => {
    await rig.redis!.freeze();
    const statuses: number[] = [];
    let slowest = 0;
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      statuses.push((await post(rig.gateways[0].base, "/echo", { i }, wrongKey(i), from("198.51.100.3"))).status);
      slowest = Math.max(slowest, performance.now() - started);
    }
    console.log(`      30 wrong keys with Redis frozen: slowest ${slowest.toFixed(1)} ms`);
    assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(20).fill(429)]);
    assert.ok(slowest < 2_000, `a refusal took ${Math.round(slowest)} ms`);
  });
});
