import assert from "node:assert/strict";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import { parseSettings } from "../../gateway/config";
import app from "../fixtures/async-app/app";
import { KEY_A } from "../support/gateway-app";
import { finalInvocation, readInvocation, submit } from "../support/invocations";
import { RedisServer, redisForSuite } from "../support/redis";

describe("asynchronous routes when their queue's Redis freezes or dies (real redis-server)", function () {
  // A frozen Redis is given up on after the queue's deadline (5 s) per request.
  this.timeout(120_000);
  let redis: RedisServer | undefined;
  let target: LocalTarget;
  let base: string;

  before(async function () {
    redis = await redisForSuite(this);
    target = new LocalTarget({
      spec: app.toSpec(),
      root: app.root,
      settings: parseSettings({ apiKeys: [KEY_A], redis: { url: redis!.url, commandTimeoutMs: 200 } }),
      logger: pino({ level: "silent" }),
    });
    base = `http://127.0.0.1:${(await target.listen(0)).port}`;
  });
  after(async () => {
    await target?.close();
    await redis?.stop();
  });

  it("refuses an oversized submission with 413 before anything is queued", async () => {
    const { response, json } = await submit(base, "/work", { value: "x".repeat(1_100_000) }, KEY_A);
    assert.equal(response.status, 413);
    assert.equal(json.error.code, "PAYLOAD_TOO_LARGE");
  });

  it("answers 503 QUEUE_UNAVAILABLE with Retry-After while Redis is frozen, for submissions, keyed submissions and reads", async () => {
    const { id } = await submit(base, "/work", { value: "before" }, KEY_A);
    await finalInvocation(base, id!, KEY_A);
    await redis!.freeze();
    try {
      const refused = await submit(base, "/work", { value: "frozen" }, KEY_A);
      assert.equal(refused.response.status, 503);
      assert.equal(refused.json.error.code, "QUEUE_UNAVAILABLE");
      assert.equal(refused.response.headers.get("retry-after"), "1");
      const keyed = await submit(base, "/work", { value: "frozen" }, KEY_A, { "idempotency-key": "frozen-1" });
      assert.equal(keyed.response.status, 503);
      const read = await readInvocation(base, id!, KEY_A);
      assert.equal(read.status, 503);
      assert.equal(read.json.error.code, "QUEUE_UNAVAILABLE");
      // The gateway itself is alive throughout.
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      await redis!.thaw();
    }
    // Thawed, the same Idempotency-Key queues (its failed claim was never kept, or expires with the queue's answer).
    const after = await submit(base, "/work", { value: "thawed" }, KEY_A, { "idempotency-key": "thawed-1" });
    assert.equal(after.response.status, 202);
    assert.equal((await finalInvocation(base, after.id!, KEY_A)).state, "succeeded");
  });

  it("answers 503 while Redis is down, and queues again once it is back", async () => {
    await redis!.stop();
    const refused = await submit(base, "/work", { value: "down" }, KEY_A);
    assert.equal(refused.response.status, 503);
    assert.equal(refused.json.error.code, "QUEUE_UNAVAILABLE");
    assert.doesNotMatch(JSON.stringify(refused.json), /ECONNREFUSED|127\.0\.0\.1/);
    redis = new RedisServer(redis!.port);
    await redis.start();
    for (;;) {
      const again = await submit(base, "/work", { value: "back" }, KEY_A);
      if (again.response.status === 202) {
        assert.equal((await finalInvocation(base, again.id!, KEY_A)).result!.body.value, "back");
        break;
      }
      assert.equal(again.response.status, 503);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
