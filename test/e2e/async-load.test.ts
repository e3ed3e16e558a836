import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import { parseSettings } from "../../gateway/config";
import app from "../fixtures/async-app/app";
import { KEY_A } from "../support/gateway-app";
import { finalInvocation, submit } from "../support/invocations";
import { redisForSuite, type RedisServer } from "../support/redis";

const CLIENTS = 50;
const JOBS = 1_000;

/** Runs `task` for each of `items` with at most `width` at once. */
async function inParallel<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]);
      }
    }),
  );
  return results;
}

for (const queue of ["in-process", "BullMQ"] as const) {
  describe(`${JOBS} asynchronous jobs from ${CLIENTS} concurrent clients (${queue} queue, real sockets)`, function () {
    this.timeout(300_000);
    let redis: RedisServer | undefined;
    let target: LocalTarget;
    let base: string;
    let log: string;

    before(async function () {
      if (queue === "BullMQ") redis = await redisForSuite(this);
      log = join(mkdtempSync(join(tmpdir(), "cloudloom-async-load-")), "runs.log");
      process.env.ASYNC_TEST_LOG = log;
      target = new LocalTarget({
        spec: app.toSpec(),
        root: app.root,
        settings: parseSettings({ apiKeys: [KEY_A], ...(redis ? { redis: { url: redis.url } } : {}) }),
        logger: pino({ level: "silent" }),
      });
      base = `http://127.0.0.1:${(await target.listen(0)).port}`;
    });
    after(async () => {
      delete process.env.ASYNC_TEST_LOG;
      await target?.close();
      await redis?.stop();
    });

    it("brings every one to a final state: none lost, none run twice (counted)", async () => {
      // Each client submits its share in turn; the 50 clients run at once.
      const perClient = JOBS / CLIENTS;
      const submitted = await inParallel(
        Array.from({ length: CLIENTS }, (_, client) => client),
        CLIENTS,
        async (client) => {
          const ids: Array<{ id: string; value: number }> = [];
          for (let i = 0; i < perClient; i++) {
            const value = client * perClient + i;
            const { response, id } = await submit(base, "/work", { value }, KEY_A);
            assert.equal(response.status, 202);
            ids.push({ id: id!, value });
          }
          return ids;
        },
      );
      const jobs = submitted.flat();
      assert.equal(jobs.length, JOBS);
      assert.equal(new Set(jobs.map((job) => job.id)).size, JOBS, "every submission got its own id");

      const finals = await inParallel(jobs, CLIENTS, async (job) => ({ job, final: await finalInvocation(base, job.id, KEY_A) }));
      const states = new Map<string, number>();
      for (const { final } of finals) states.set(final.state, (states.get(final.state) ?? 0) + 1);
      assert.deepEqual(Object.fromEntries(states), { succeeded: JOBS });
      for (const { job, final } of finals) assert.equal(final.result!.body.value, job.value, `invocation ${job.id}`);
      assert.deepEqual(
        finals.map(({ final }) => final.result!.body.value as number).sort((a, b) => a - b),
        Array.from({ length: JOBS }, (_, i) => i),
      );

      // The handler's own count: each job began once and finished once.
      const lines = readFileSync(log, "utf8").trim().split("\n");
      const count = (event: string) => new Set(lines.filter((line) => line.startsWith(`${event} `)).map((line) => line.split(" ")[1]));
      assert.equal(lines.length, 2 * JOBS);
      assert.equal(count("start").size, JOBS);
      assert.equal(count("done").size, JOBS);
    });
  });
}
