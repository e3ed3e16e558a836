/**
 * Asynchronous invocations, the same on every target. A POST to an
 * asynchronous route is queued for the entry its target (or the version its
 * split picks) names, and answered `202 Accepted` with the invocation's id in
 * the JSON body and `Location: /v1/invocations/{id}`; an `Idempotency-Key`
 * makes a retried submission answer the first one's id (idempotency.ts).
 * `GET /v1/invocations/{id}` answers the invocation's state, attempts,
 * timestamps and its result or error, to the tenant that submitted it only:
 * any other caller gets the 404 an unknown id gets. Both run after auth, the
 * concurrency cap and the route's rate limit, which apply to them as to any call.
 */
import {
  INVOCATIONS_PATH,
  queueOperation,
  ServingError,
  type AsyncJob,
  type InvocationQueue,
  type InvocationRecord,
} from "../../runtime/contract";
import type { Exchange, Stage } from "../exchange";
import { newInvocationId, parseInvocationId } from "../invocations/ids";
import { fingerprintOf, idempotencyKeyOf, type IdempotencyStore } from "../invocations/idempotency";
import type { CompiledAsync, QueuedEntry } from "../route-table";
import { pickVersion } from "../routing/versions";

const unknownInvocation = () => new ServingError("NOT_FOUND", "no invocation has this id");

/** Sends a JSON answer the gateway made itself. */
function sendJson(exchange: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  const res = exchange.res;
  res.statusCode = status;
  for (const name in headers) res.setHeader(name, headers[name]);
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", payload.length);
  res.end(payload);
  exchange.answered = true;
}

/** The 202 of a submission (or of its idempotent retry). */
function accepted(exchange: Exchange, id: string, entry: QueuedEntry, replayed: boolean): void {
  const location = `${INVOCATIONS_PATH}/${id}`;
  exchange.record.region = entry.region;
  sendJson(
    exchange,
    202,
    { id, state: "queued", location },
    { location, ...(replayed ? { "x-cloudloom-idempotent-replay": "true" } : {}) },
  );
}

/** The job of this request, for `entry`; traced, it carries the request's trace context for the worker to continue. */
function jobOf(exchange: Exchange, id: string, entry: QueuedEntry): AsyncJob {
  const request = exchange.backendRequest();
  const headers = { ...request.headers, "x-request-id": id };
  exchange.trace?.propagate(headers);
  return {
    id,
    tenant: exchange.record.tenant,
    route: exchange.route.key,
    kind: entry.kind,
    entry: entry.entry,
    region: entry.region,
    request: {
      method: request.method,
      path: request.path,
      headers,
      query: request.query,
      body: request.body.toString("base64"),
    },
    submittedAt: Date.now(),
  };
}

/** Queues the request's call and answers 202. */
async function submit(exchange: Exchange, async: CompiledAsync, idempotency: IdempotencyStore): Promise<void> {
  const { route, record } = exchange;
  const targetKey = route.split ? pickVersion(route.split, record.id) : "-";
  const entry = async.entries.get(targetKey)!;
  if (entry.kind === "model") {
    record.version = targetKey;
    exchange.res.setHeader("x-cloudloom-version", targetKey);
  }
  const key = idempotencyKeyOf(exchange.req.headers["idempotency-key"]);
  const id = newInvocationId(route.key, entry.kind, entry.entry);
  if (key === undefined) {
    await queueOperation(() => entry.queue.submit(jobOf(exchange, id, entry)));
    return accepted(exchange, id, entry, false);
  }
  const fingerprint = fingerprintOf(exchange.body);
  const claim = await idempotency.claim(record.tenant, route.key, key, fingerprint, id, async.retentionMs);
  if (claim.kind === "mismatch")
    throw new ServingError(
      "IDEMPOTENCY_KEY_MISMATCH",
      "this Idempotency-Key was used with another payload; use a new key for a new request",
    );
  if (claim.kind === "in-flight")
    throw new ServingError("IDEMPOTENCY_KEY_IN_USE", "a request with this Idempotency-Key is still being submitted; retry shortly", {
      "retry-after": "1",
    });
  if (claim.kind === "existing") {
    const tags = parseInvocationId(claim.id);
    return accepted(exchange, claim.id, (tags && async.byTag.get(tags.entry)) ?? entry, true);
  }
  try {
    await queueOperation(() => entry.queue.submit(jobOf(exchange, id, entry)));
  } catch (error) {
    await idempotency.release(record.tenant, route.key, key).catch(() => undefined);
    throw error;
  }
  await idempotency.confirm(record.tenant, route.key, key, fingerprint, id, async.retentionMs);
  accepted(exchange, id, entry, false);
}

/** An invocation as clients read it: times in ISO 8601. */
function statusBody(invocation: InvocationRecord, route: string): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    id: invocation.id,
    route,
    state: invocation.state,
    attempts: invocation.attempts,
    submittedAt: iso(invocation.submittedAt),
    startedAt: iso(invocation.startedAt),
    finishedAt: iso(invocation.finishedAt),
    result: invocation.result,
    error: invocation.error,
  };
}

/** Answers a status request: the submitting tenant's invocation, else the 404 of an unknown id. */
async function status(exchange: Exchange, async: CompiledAsync, id: string): Promise<void> {
  const entry = async.byTag.get(parseInvocationId(id)!.entry);
  if (!entry) throw unknownInvocation();
  const queue: InvocationQueue = entry.queue;
  const invocation = await queueOperation(() => queue.read(id));
  if (!invocation || invocation.tenant !== exchange.record.tenant) throw unknownInvocation();
  exchange.record.region = entry.region;
  sendJson(exchange, 200, statusBody(invocation, exchange.route.key));
}

/** Submits to asynchronous routes and answers status requests; every other request goes on. */
export function invocations(idempotency: IdempotencyStore): Stage {
  return {
    run(exchange) {
      const async = exchange.route.async;
      if (!async) return;
      return exchange.invocation === undefined ? submit(exchange, async, idempotency) : status(exchange, async, exchange.invocation);
    },
  };
}
