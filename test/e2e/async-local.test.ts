import assert from "node:assert/strict";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import { parseSettings } from "../../gateway/config";
import app from "../fixtures/async-app/app";
import { KEY_A, KEY_B } from "../support/gateway-app";
import { finalInvocation, readInvocation, submit } from "../support/invocations";
import { redisForSuite, type RedisServer } from "../support/redis";

/** The same behaviours on both local queues: in this process's memory, and BullMQ on a real redis-server. */
for (const queue of ["in-process", "BullMQ"] as const) {
  describe(`asynchronous invocations on the local target (${queue} queue, real sockets)`, () => {
    let redis: RedisServer | undefined;
    let target: LocalTarget;
    let base: string;

    before(async function () {
      if (queue === "BullMQ") redis = await redisForSuite(this);
      target = new LocalTarget({
        spec: app.toSpec(),
        root: app.root,
        settings: parseSettings({ apiKeys: [KEY_A, KEY_B], ...(redis ? { redis: { url: redis.url } } : {}) }),
        logger: pino({ level: "silent" }),
      });
      base = `http://127.0.0.1:${(await target.listen(0)).port}`;
    });
    after(async () => {
      await target?.close();
      await redis?.stop();
    });

    it("answers 202 with the id in the body and Location, then the result under that id", async () => {
      const { response, id, json } = await submit(base, "/work", { value: "hello" }, KEY_A);
      assert.equal(response.status, 202);
      assert.match(id!, /^[0-9a-f]{48}$/);
      assert.equal(response.headers.get("location"), `/v1/invocations/${id}`);
      assert.deepEqual(json, { id, state: "queued", location: `/v1/invocations/${id}` });
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "succeeded");
      assert.equal(done.attempts, 1);
      assert.equal(done.route, "POST /work");
      assert.equal(done.result!.status, 200);
      assert.equal(done.result!.body.value, "hello");
      // The handler saw the submitting tenant, and the invocation's timestamps are in order.
      assert.match(done.result!.body.tenant, /^t-[0-9a-f]{12}$/);
      assert.ok(Date.parse(done.submittedAt) <= Date.parse(done.startedAt!));
      assert.ok(Date.parse(done.startedAt!) <= Date.parse(done.finishedAt!));
    });

    it("retries a failing job with its backoff, and records the attempt that succeeded", async () => {
      const { id } = await submit(base, "/work", { value: 2, failTimes: 2 }, KEY_A);
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "succeeded");
      assert.equal(done.attempts, 3);
      assert.equal(done.result!.body.attempt, 3);
      assert.equal(done.error, undefined);
    });

    it("dead-letters a job that fails every attempt, with a safe error", async () => {
      const { id } = await submit(base, "/work", { failTimes: 99 }, KEY_A);
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "dead-lettered");
      assert.equal(done.attempts, 3);
      assert.equal(done.error!.code, "FUNCTION_FAILED");
      assert.doesNotMatch(done.error!.message, /planned failure/);
      assert.equal(done.result, undefined);
    });

    it("marks it failed instead when the entry keeps no dead letter", async () => {
      const { id } = await submit(base, "/forgetful", { failTimes: 99 }, KEY_A);
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "failed");
      assert.equal(done.attempts, 2);
    });

    it("fails an attempt that outlives its timeout, and retries it", async () => {
      const { id } = await submit(base, "/hasty", { sleepMs: 2_000 }, KEY_A);
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "dead-lettered");
      assert.equal(done.attempts, 2);
      assert.equal(done.error!.code, "INVOCATION_TIMEOUT");
    });

    it("keeps a 4xx answer as the result of a failed invocation, without retrying it", async () => {
      const { id } = await submit(base, "/work", { reject: true }, KEY_A);
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "failed");
      assert.equal(done.attempts, 1);
      assert.deepEqual(done.result, { status: 422, body: { error: { code: "REJECTED", message: "this input is refused" } } });
    });

    it("runs a queued model version: batch inference", async () => {
      const { response, id } = await submit(base, "/models/intent", { inputs: { features: new Array(512).fill(0.01) } }, KEY_A);
      assert.equal(response.status, 202);
      assert.equal(response.headers.get("x-cloudloom-version"), "1");
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "succeeded");
      assert.equal(done.result!.body.model, "intent");
      assert.equal(done.result!.body.outputs.probabilities.length, 5);
    });

    it("answers a retried submission with the same Idempotency-Key and payload with the same id, once queued", async () => {
      const key = { "idempotency-key": `"retry-${queue}"` };
      const first = await submit(base, "/work", { value: "once" }, KEY_A, key);
      const again = await submit(base, "/work", { value: "once" }, KEY_A, key);
      assert.equal(first.response.status, 202);
      assert.equal(again.response.status, 202);
      assert.equal(again.id, first.id);
      assert.equal(again.response.headers.get("x-cloudloom-idempotent-replay"), "true");
      // The same key is another tenant's own: it queues anew for tenant B.
      const other = await submit(base, "/work", { value: "once" }, KEY_B, key);
      assert.equal(other.response.status, 202);
      assert.notEqual(other.id, first.id);
      assert.equal((await finalInvocation(base, first.id!, KEY_A)).state, "succeeded");
    });

    it("refuses an Idempotency-Key reused with another payload (422), and a malformed one (400)", async () => {
      const key = { "idempotency-key": `mismatch-${queue}` };
      assert.equal((await submit(base, "/work", { value: 1 }, KEY_A, key)).response.status, 202);
      const reused = await submit(base, "/work", { value: 2 }, KEY_A, key);
      assert.equal(reused.response.status, 422);
      assert.equal(reused.json.error.code, "IDEMPOTENCY_KEY_MISMATCH");
      for (const bad of ['""', "x".repeat(256), "tab\tinside"]) {
        const refused = await submit(base, "/work", { value: 3 }, KEY_A, { "idempotency-key": bad });
        assert.equal(refused.response.status, 400, bad);
        assert.equal(refused.json.error.code, "INVALID_INPUT");
      }
    });

    it("queues concurrent submissions with one Idempotency-Key once: one id, or 409 while the first is queueing", async () => {
      const key = { "idempotency-key": `race-${queue}` };
      const answers = await Promise.all(Array.from({ length: 20 }, () => submit(base, "/work", { value: "race" }, KEY_A, key)));
      const ids = new Set(answers.filter((a) => a.response.status === 202).map((a) => a.id));
      assert.equal(ids.size, 1);
      for (const answer of answers) assert.ok([202, 409].includes(answer.response.status), String(answer.response.status));
    });

    it("lets only the submitting tenant read an invocation: others get the 404 of an unknown id", async () => {
      const { id } = await submit(base, "/work", { value: "mine" }, KEY_A);
      await finalInvocation(base, id!, KEY_A);
      const other = await readInvocation(base, id!, KEY_B);
      assert.equal(other.status, 404);
      const unknown = await readInvocation(base, `${id!.slice(0, 16)}${"0".repeat(32)}`, KEY_A);
      assert.deepEqual(other.json, unknown.json);
      assert.equal((await readInvocation(base, id!)).status, 401);
      assert.equal((await readInvocation(base, id!, "not-a-key-0123456789")).status, 401);
    });

    it("answers 404 for malformed ids and ids no route minted, and 405 for other methods", async () => {
      for (const id of ["nope", "0".repeat(48), "../../admin/reload", `${"f".repeat(47)}g`, "A".repeat(48)])
        assert.equal((await readInvocation(base, encodeURIComponent(id), KEY_A)).status, 404, id);
      const { id } = await submit(base, "/work", {}, KEY_A);
      const post = await fetch(`${base}/v1/invocations/${id}`, { method: "POST", headers: { authorization: `Bearer ${KEY_A}` } });
      assert.equal(post.status, 405);
    });

    it("applies the route's rate limit to submissions and status reads alike", async () => {
      const first = await submit(base, "/limited", {}, KEY_B);
      assert.equal(first.response.status, 202);
      assert.equal((await readInvocation(base, first.id!, KEY_B)).status, 200);
      assert.equal((await submit(base, "/limited", {}, KEY_B)).response.status, 202);
      // Three points per minute: the fourth request (a submission) and a status read after it are refused.
      const refused = await submit(base, "/limited", {}, KEY_B);
      assert.equal(refused.response.status, 429);
      assert.equal((await readInvocation(base, first.id!, KEY_B)).status, 429);
    });

    it("scopes a public route's invocations to the public tenant, which a client cannot forge", async () => {
      const { id } = await submit(base, "/open", { value: "public" }, undefined, { "x-cloudloom-tenant": "t-000000000000" });
      const done = await finalInvocation(base, id!);
      assert.equal(done.result!.body.tenant, "public");
    });

    it(`says in /readyz whether its queue is durable`, async () => {
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { ready: boolean; queues?: { durable: boolean; warning: string } };
      assert.equal(ready.ready, true);
      if (queue === "BullMQ") assert.equal(ready.queues, undefined);
      else {
        assert.equal(ready.queues!.durable, false);
        assert.match(ready.queues!.warning, /--redis redis:\/\//);
      }
    });
  });
}
