import assert from "node:assert/strict";
import { IncomingMessage, ServerResponse } from "node:http";
import { Exchange } from "../../../../gateway/exchange";
import { entryTag, newInvocationId, parseInvocationId, routeTag } from "../../../../gateway/invocations/ids";
import { IdempotencyStore, idempotencyKeyOf } from "../../../../gateway/invocations/idempotency";
import type { CompiledAsync, QueuedEntry } from "../../../../gateway/route-table";
import { invocations } from "../../../../gateway/stages/invocations";
import { matchRoute, STATUS_ROUTE } from "../../../../gateway/stages/match-route";
import { ServingError, type AsyncJob, type InvocationQueue, type InvocationRecord } from "../../../../runtime/contract";
import type { AsyncSpec } from "../../../../sdk/spec";
import { request, route, table } from "./exchange-fixture";

const SETTINGS: AsyncSpec = {
  retries: 1,
  backoff: { strategy: "fixed", delay: "1 second" },
  timeout: "5 seconds",
  deadLetter: true,
  retention: "1 hour",
};

/** A queue that keeps jobs in a list and answers reads from `records`; `down` makes it throw as an unreachable store. */
class ListQueue implements InvocationQueue {
  readonly durable = true;
  readonly jobs: AsyncJob[] = [];
  readonly records = new Map<string, InvocationRecord>();
  down = false;
  async submit(job: AsyncJob): Promise<void> {
    if (this.down) throw new Error("connect ECONNREFUSED 10.0.0.7:6379");
    this.jobs.push(job);
    this.records.set(job.id, { id: job.id, tenant: job.tenant, state: "queued", attempts: 0, submittedAt: job.submittedAt });
  }
  async read(id: string): Promise<InvocationRecord | undefined> {
    if (this.down) throw new Error("connect ECONNREFUSED 10.0.0.7:6379");
    return this.records.get(id);
  }
}

function queuedRoute(queue: InvocationQueue) {
  const entry: QueuedEntry = { kind: "function", entry: "fn", region: "central", tag: entryTag("function", "fn"), queue };
  const async: CompiledAsync = {
    settings: SETTINGS,
    tag: routeTag("POST /jobs"),
    retentionMs: 3_600_000,
    entries: new Map([["-", entry]]),
    byTag: new Map([[entry.tag, entry]]),
  };
  return route("POST /jobs", {}, new Map(), { async });
}

/** Runs the match and invocation stages over `req` as `tenant`; returns the exchange and the response's status and body. */
async function run(req: IncomingMessage, queue: InvocationQueue, tenant = "t-aaaaaaaaaaaa", store = new IdempotencyStore()) {
  const jobs = queuedRoute(queue);
  const res = new ServerResponse(req);
  let sent = "";
  res.end = ((chunk?: Buffer) => {
    sent = chunk ? chunk.toString() : "";
    return res;
  }) as typeof res.end;
  const exchange = new Exchange(req, res, table(jobs));
  exchange.record.id = "req-1";
  matchRoute(2_048).run!(exchange);
  exchange.record.tenant = tenant;
  exchange.body = Buffer.from(JSON.stringify({ n: 1 }));
  await invocations(store).run!(exchange);
  return { exchange, status: res.statusCode, body: sent ? JSON.parse(sent) : undefined, res };
}

const codeOf = async (operation: Promise<unknown>) => {
  try {
    await operation;
    return "answered";
  } catch (error) {
    return (error as ServingError).code;
  }
};

describe("invocation ids", () => {
  it("carry the route's and the entry's tags before 128 random bits", () => {
    const id = newInvocationId("POST /jobs", "model", "m@2");
    assert.match(id, /^[0-9a-f]{48}$/);
    assert.deepEqual(parseInvocationId(id), { route: routeTag("POST /jobs"), entry: entryTag("model", "m@2") });
    assert.notEqual(newInvocationId("POST /jobs", "model", "m@2"), id);
  });

  it("parse nothing but their own shape", () => {
    for (const bad of ["", "abc", "0".repeat(47), "0".repeat(49), "G".repeat(48), `${"0".repeat(47)}/`])
      assert.equal(parseInvocationId(bad), undefined);
  });
});

describe("Idempotency-Key header", () => {
  it("takes the draft's sf-string and the bare token clients send", () => {
    assert.equal(idempotencyKeyOf('"8e03978e-40d5-43e8-bc93-6894a57f9324"'), "8e03978e-40d5-43e8-bc93-6894a57f9324");
    assert.equal(idempotencyKeyOf('"say \\"hi\\""'), 'say "hi"');
    assert.equal(idempotencyKeyOf("plain-token"), "plain-token");
    assert.equal(idempotencyKeyOf(undefined), undefined);
  });

  it("refuses empty, over-long and non-printable keys with INVALID_INPUT", () => {
    for (const bad of ['""', "", "k".repeat(256), "nul\u0000byte", "caf\u00e9"])
      assert.throws(
        () => idempotencyKeyOf(bad),
        (e: ServingError) => e.code === "INVALID_INPUT",
        JSON.stringify(bad),
      );
  });
});

describe("invocations stage", () => {
  it("queues a submission for the route's entry and answers 202 with the id and its Location", async () => {
    const queue = new ListQueue();
    const { status, body, res } = await run(request({ url: "/jobs?x=1", headers: { "content-type": "application/json" } }), queue);
    assert.equal(status, 202);
    assert.equal(res.getHeader("location"), `/v1/invocations/${body.id}`);
    assert.equal(res.getHeader("cache-control"), "no-store");
    const [job] = queue.jobs;
    assert.equal(job.id, body.id);
    assert.deepEqual(
      [job.tenant, job.route, job.kind, job.entry, job.region],
      ["t-aaaaaaaaaaaa", "POST /jobs", "function", "fn", "central"],
    );
    assert.deepEqual(job.request.query, { x: "1" });
    assert.equal(job.request.headers["x-request-id"], body.id);
    assert.equal(job.request.headers["x-cloudloom-tenant"], "t-aaaaaaaaaaaa");
    assert.deepEqual(JSON.parse(Buffer.from(job.request.body, "base64").toString()), { n: 1 });
  });

  it("reads an invocation for its tenant under the status route, and answers any other tenant as an unknown id", async () => {
    const queue = new ListQueue();
    const { body } = await run(request({ url: "/jobs" }), queue);
    const read = await run(request({ method: "GET", url: `/v1/invocations/${body.id}` }), queue);
    assert.equal(read.status, 200);
    assert.equal(read.exchange.record.route, STATUS_ROUTE);
    assert.equal(read.body.state, "queued");
    assert.equal(read.body.route, "POST /jobs");
    assert.equal(await codeOf(run(request({ method: "GET", url: `/v1/invocations/${body.id}` }), queue, "t-bbbbbbbbbbbb")), "NOT_FOUND");
  });

  it("turns an unreachable store into 503 QUEUE_UNAVAILABLE without its details", async () => {
    const queue = new ListQueue();
    queue.down = true;
    try {
      await run(request({ url: "/jobs" }), queue);
      assert.fail("submitted to a queue that is down");
    } catch (error) {
      assert.equal((error as ServingError).code, "QUEUE_UNAVAILABLE");
      assert.equal((error as ServingError).headers["retry-after"], "1");
      assert.doesNotMatch((error as ServingError).message, /ECONNREFUSED|10\.0\.0\.7/);
    }
  });

  it("answers a repeated key and payload with the first id, another payload with 422, without queueing again", async () => {
    const queue = new ListQueue();
    const store = new IdempotencyStore();
    const keyed = () => request({ url: "/jobs", headers: { "idempotency-key": '"k-1"' } });
    const first = await run(keyed(), queue, undefined, store);
    const again = await run(keyed(), queue, undefined, store);
    assert.equal(again.body.id, first.body.id);
    assert.equal(queue.jobs.length, 1);
    const other = queuedRoute(queue);
    const req = keyed();
    const exchange = new Exchange(req, new ServerResponse(req), table(other));
    matchRoute(2_048).run!(exchange);
    exchange.record.tenant = "t-aaaaaaaaaaaa";
    exchange.body = Buffer.from('{"n":2}');
    assert.equal(await codeOf(invocations(store).run!(exchange) as Promise<void>), "IDEMPOTENCY_KEY_MISMATCH");
    assert.equal(queue.jobs.length, 1);
  });

  it("lets a key whose submission failed be used again", async () => {
    const queue = new ListQueue();
    const store = new IdempotencyStore();
    const keyed = () => request({ url: "/jobs", headers: { "idempotency-key": "k-2" } });
    queue.down = true;
    assert.equal(await codeOf(run(keyed(), queue, undefined, store)), "QUEUE_UNAVAILABLE");
    queue.down = false;
    assert.equal((await run(keyed(), queue, undefined, store)).status, 202);
  });

  it("refuses other methods on the status path, and ids of routes this configuration does not have", () => {
    const queue = new ListQueue();
    const jobs = queuedRoute(queue);
    const matched = (method: string, url: string) => {
      const req = request({ method, url });
      try {
        matchRoute(2_048).run!(new Exchange(req, new ServerResponse(req), table(jobs)));
        return "matched";
      } catch (error) {
        return (error as ServingError).code;
      }
    };
    const id = newInvocationId("POST /jobs", "function", "fn");
    assert.equal(matched("GET", `/v1/invocations/${id}`), "matched");
    assert.equal(matched("DELETE", `/v1/invocations/${id}`), "METHOD_NOT_ALLOWED");
    assert.equal(matched("GET", `/v1/invocations/${newInvocationId("POST /other", "function", "fn")}`), "NOT_FOUND");
    assert.equal(matched("GET", "/v1/invocations/not-an-id"), "NOT_FOUND");
  });
});
