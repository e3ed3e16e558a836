import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { redisForSuite, type RedisServer } from "../support/redis";
import { cleanEnv, Serve } from "../support/serve";

const sh = promisify(execFile);

/** The two curl lines `npm start` prints for the backlog route: submit, then read back by id. */
function backlogLines(out: string): { submit: string; read: string } {
  const lines = out.split("\n");
  const at = lines.findIndex((line) => line.includes("POST /v1/tickets/reclassify (asynchronous"));
  assert.ok(at >= 0, `no asynchronous route printed:\n${out}`);
  return { submit: lines[at + 1].trim(), read: lines[at + 2].trim() };
}

/** Runs a printed line in a shell, as a user pasting it would, and parses its JSON answer. */
async function run(line: string): Promise<any> {
  const { stdout } = await sh("sh", ["-c", line]);
  return JSON.parse(stdout);
}

/** Submits the printed backlog, then reads it back with the printed line until it is final. */
async function reclassified(out: string): Promise<any> {
  const { submit, read } = backlogLines(out);
  const accepted = await run(submit);
  assert.equal(accepted.state, "queued");
  assert.match(accepted.id, /^[0-9a-f]{48}$/);
  assert.equal((await run(submit)).id, accepted.id, "the printed Idempotency-Key makes a pasted retry the same invocation");
  for (;;) {
    const invocation = await run(read.replace("<id>", accepted.id));
    if (invocation.state === "succeeded") return invocation;
    assert.ok(["queued", "running"].includes(invocation.state), JSON.stringify(invocation));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("npm start: the example's asynchronous backlog route, from the printed curl lines (child process, real sockets)", function () {
  // Starting serve loads the runtime and the model: seconds on a loaded 2-core machine.
  this.timeout(180_000);
  let redis: RedisServer | undefined;
  const servers: Serve[] = [];
  after(async () => {
    await Promise.all(servers.map((serve) => serve.stop()));
    await redis?.stop();
  });

  it("without Redis: says the queue is not durable (startup and /readyz), and the printed lines re-classify the backlog", async () => {
    const serve = new Serve(["examples/support-desk", "--port", "0"], cleanEnv());
    servers.push(serve);
    const base = await serve.started();
    await serve.printed(/Press Ctrl-C to stop\./);
    assert.match(
      serve.out,
      /warning: asynchronous invocations are queued in this process's memory and are lost when it stops; start it with --redis/,
    );
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { queues?: { durable: boolean } };
    assert.equal(ready.queues?.durable, false);
    const done = await reclassified(serve.out);
    assert.equal(done.result.status, 200);
    assert.equal(done.result.body.reclassified, 2);
    assert.deepEqual(
      done.result.body.tickets.map((t: { id: string; priority: string }) => [t.id, t.priority]),
      [
        ["T-1001", "high"],
        ["T-1002", "normal"],
      ],
    );
    assert.equal(
      Object.values(done.result.body.byQueue as Record<string, number>).reduce((a, b) => a + b),
      2,
    );
  });

  it("with --redis: queues durably in BullMQ, and says so", async function () {
    redis = await redisForSuite(this);
    const serve = new Serve(["examples/support-desk", "--port", "0", "--redis", redis!.url], cleanEnv());
    servers.push(serve);
    const base = await serve.started();
    await serve.printed(/Press Ctrl-C to stop\./);
    assert.match(serve.out, /Asynchronous routes queue in Redis \(BullMQ\): jobs survive a restart\./);
    assert.doesNotMatch(serve.out, /not durable|lost when it stops/);
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { ready: boolean; queues?: unknown };
    assert.deepEqual(ready, { ready: true });
    assert.equal((await reclassified(serve.out)).result.body.reclassified, 2);
  });
});
