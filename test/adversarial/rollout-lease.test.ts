import assert from "node:assert/strict";
import Redis from "ioredis";
import { rolloutPlan } from "../../gateway/rollout/plan";
import { RedisRolloutStore } from "../../gateway/rollout/redis-store";
import { afterTransition, startState } from "../../gateway/rollout/state";
import type { RouteSpec } from "../../sdk/spec";
import { redisForSuite, type RedisServer } from "../support/redis";

const plan = rolloutPlan("POST /m", {
  target: { kind: "model", name: "m", weights: { "1": 100, "2": 0 }, strategy: "canary", sticky: false },
  auth: "none",
  rollout: { version: "2", steps: [10, 100], interval: "1 minute", gate: { maxErrorRate: "1%", minRequests: 10 } },
} as RouteSpec)!;

describe("the rollout lease and state writes in a real redis-server", () => {
  let server: RedisServer | undefined;
  let clients: Redis[];
  const store = () => {
    const client = new Redis(server!.url);
    clients.push(client);
    return new RedisRolloutStore(client, "app");
  };
  beforeEach(async function () {
    server = await redisForSuite(this);
    clients = [];
  });
  afterEach(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  it("gives the lease to one holder at a time; only the holder extends or releases it", async () => {
    const [a, b] = [store(), store()];
    const outcomes = await Promise.all([a.hold("token-a", 10_000), b.hold("token-b", 10_000)]);
    assert.deepEqual(outcomes.filter(Boolean).length, 1, "two instances asking at once: exactly one holds it");
    const [holder, other, token, otherToken] = outcomes[0] ? [a, b, "token-a", "token-b"] : [b, a, "token-b", "token-a"];
    assert.equal(await holder.hold(token, 10_000), true, "the holder extends it");
    await other.release(otherToken);
    await holder.release(otherToken);
    assert.equal(await other.hold(otherToken, 10_000), false, "releasing with another token deletes nothing");
    await holder.release(token);
    assert.equal(await other.hold(otherToken, 10_000), true, "released by its holder, it is free");
  });

  it("lets the lease lapse when its holder stops extending it", async () => {
    const [a, b] = [store(), store()];
    assert.equal(await a.hold("token-a", 200), true);
    // Waits for the lapse (Redis's own clock), asking as a second instance would at each sync.
    while (!(await b.hold("token-b", 10_000))) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(await a.hold("token-a", 10_000), false, "the lapsed holder cannot take it back while another holds it");
  });

  it("writes a state only over the epoch it was computed from, and a judge's write only while it holds the lease", async () => {
    const [a, b] = [store(), store()];
    const start = startState(plan, 0, "a");
    assert.equal(await a.write(plan.id, undefined, start), true);
    assert.equal(await b.write(plan.id, undefined, startState(plan, 1, "b")), false, "a second start loses");
    const advance = afterTransition(start, { at: 2, kind: "succeeded", step: 2, weight: 100, instance: "a" });
    assert.equal(await a.write(plan.id, 1, advance, "token-a"), false, "a judge without the lease writes nothing");
    assert.equal(await a.hold("token-a", 10_000), true);
    const [first, second] = await Promise.all([a.write(plan.id, 1, advance, "token-a"), b.write(plan.id, 1, advance, "token-b")]);
    assert.deepEqual([first, second], [true, false], "only the lease holder's write lands");
    assert.equal(await b.write(plan.id, 1, { ...advance, weight: 0 }), false, "an operator's write over a stale epoch loses too");
    assert.equal((await b.read(plan.id))?.weight, 100);
  });

  it("adds every instance's counts, and ignores what does not look like one", async () => {
    const [a, b] = [store(), store()];
    const batch = { id: plan.id, epoch: 3, observations: { "2": { requests: 4, errors: 1, latency: { 10: 4 } } } };
    await Promise.all([a.record([batch]), b.record([batch])]);
    const key = `cl:rollout:app:obs:${plan.id}:3`;
    await clients[0].hset(key, "2:b9999", "5", "2:x", "1", "junk", "7", "1:n", "-3", "1:e", "1e400");
    assert.deepEqual(await a.observations(plan.id, 3), { "2": { requests: 8, errors: 2, latency: { 10: 8 } } });
    assert.ok((await clients[0].pttl(key)) > 0, "an epoch's counts expire");
  });
});
