/**
 * Failover under bounded load on loopback: 50 keep-alive clients whose
 * locality (`x-cloudloom-locality: de`) sends them to the edge hammer
 * POST /open while the edge backend is killed, or frozen. Only requests in
 * flight at the edge at that moment may fail (at most one per client); every
 * request after that is served by central.
 */
import assert from "node:assert/strict";
import type { Pool } from "undici";
import type { Gateway } from "../../gateway/gateway";
import { gatewaySpec, startGateway } from "../support/gateway-app";
import { clientPool, runClients, send, warm, type Outcome } from "../support/load";
import { until } from "../support/until";
import { StubUpstream } from "../support/upstream";

/** Concurrent clients, each with one request in flight at a time. */
const CLIENTS = 50;
/** Each client sends at most this many requests (so at most 20 000 in all). */
const MAX_PER_CLIENT = 400;
/** Requests served at the edge before it is killed or frozen, and requests after that before the load stops. */
const BEFORE = 150;
const AFTER = 300;
/** Consecutive failures that eject a backend. */
const EJECT_AFTER = 2;
const DE = { "x-cloudloom-locality": "de" };

describe("edge failover under load: 50 clients at the `de` edge while it is killed or frozen", function () {
  this.timeout(120_000);
  let central: StubUpstream;
  let edge: StubUpstream;
  let running: { gateway: Gateway; base: string; close: () => Promise<void> } | undefined;
  let pool: Pool | undefined;

  beforeEach(async () => {
    central = await new StubUpstream("central").start();
    edge = await new StubUpstream("edge").start();
    // A few milliseconds at each upstream, so requests really are in flight there when the edge goes.
    central.behaviour = { status: 200, headers: {}, delayMs: 5 };
    edge.behaviour = { status: 200, headers: {}, delayMs: 5 };
    running = await startGateway(gatewaySpec(), central, edge, {
      // Every client is 127.0.0.1 on a public route: one caller for the concurrency cap, raised above the client count.
      limits: { upstreamTimeoutMs: 1_000, perKeyConcurrency: 1_000 },
      health: { ejectAfter: EJECT_AFTER, probeIntervalMs: 60_000 },
    });
    pool = clientPool(running.base, CLIENTS);
    await warm(pool, CLIENTS, "/open", DE);
  });
  afterEach(async () => {
    await pool?.destroy();
    await running?.close();
    running = undefined;
    await central?.kill();
    await edge?.kill();
  });

  /** The load: each client sends POST /open with a unique body id, as a `de` client. */
  const load = () => runClients(CLIENTS, MAX_PER_CLIENT, (client, n) => send(pool!, client, "/open", { id: `${client}:${n}` }, DE));

  /** Request ids both stubs received: a request the edge got that was sent again to central. */
  function sentTwice(): string[] {
    const ids = (stub: StubUpstream) => new Set(stub.received.map((r) => (JSON.parse(r.body) as { id?: string }).id).filter(Boolean));
    const atCentral = ids(central);
    return [...ids(edge)].filter((id) => atCentral.has(id as string)) as string[];
  }

  const describeFailures = (failures: Outcome[]) =>
    JSON.stringify(
      Object.entries(
        failures.reduce<Record<string, number>>((acc, o) => {
          const key = o.code ?? (o.status === 0 ? `error: ${o.error}` : String(o.status));
          acc[key] = (acc[key] ?? 0) + 1;
          return acc;
        }, {}),
      ),
    );

  it("kill: fails only requests in flight at the edge, and serves every later request from central", async () => {
    const traffic = load();
    await until(() => edge.received.length >= BEFORE);
    const killAt = performance.now();
    const receivedAtKill = edge.received.length;
    await edge.kill();
    await until(() => traffic.outcomes.filter((o) => o.started > killAt).length >= AFTER);
    await traffic.stop();

    const { outcomes } = traffic;
    const inFlightAtKill = outcomes.filter((o) => o.started < killAt && o.ended > killAt);
    const failures = outcomes.filter((o) => o.status !== 200);
    const after = outcomes.filter((o) => o.started > killAt);
    const twice = sentTwice();
    console.log(
      `      kill: ${outcomes.length} requests; ${inFlightAtKill.length} in flight at the kill (${edge.abandoned.length} of them at the edge, ` +
        `which had received ${receivedAtKill}); failed in flight: ${failures.length} ${describeFailures(failures)}; ` +
        `${after.length} after the kill, ${after.filter((o) => o.region === "central").length} from central; ` +
        `${twice.length} requests the edge had received were sent again to central`,
    );

    assert.ok(
      failures.every((o) => o.started < killAt && o.ended > killAt),
      `every failure was in flight at the kill: ${JSON.stringify(failures.find((o) => !(o.started < killAt && o.ended > killAt)))}`,
    );
    assert.ok(failures.length <= CLIENTS, `${failures.length} failures with ${CLIENTS} clients`);
    assert.deepEqual(
      after.filter((o) => o.status !== 200 || o.region !== "central").slice(0, 3),
      [],
      "every request after the kill is served by central",
    );
    // In flight at the edge: read by its handler (edge.abandoned), or written to its sockets and cut off unread; the latter are
    // fast failures, retried at central only while the retry budget (at most 10 tokens) lasts, else answered 502 BAD_GATEWAY.
    assert.ok(
      failures.every((o) => o.status === 502 || o.status === 504),
      `failures are gateway errors: ${describeFailures(failures)}`,
    );
    const unreachable = await running!.gateway.metrics.registry.getSingleMetricAsString("cloudloom_upstream_errors_total");
    console.log(
      `      kill: upstream errors counted: ${[...unreachable.matchAll(/region="(\w+)",kind="([\w-]+)"\} (\d+)/g)].map((m) => `${m[1]}/${m[2]}=${m[3]}`).join(" ")}`,
    );
  });

  it("kill: a POST the edge had already received is not sent again to central", async () => {
    // Five requests reach the edge's handler, which holds them; then the edge dies with them open.
    edge.behaviour = { ...edge.behaviour, hold: new Promise<void>(() => undefined) };
    const held = Array.from({ length: 5 }, (_, i) => send(pool!, i, "/open", { id: `held:${i}` }, DE));
    await until(() => edge.received.length === CLIENTS + 5);
    await edge.kill();
    const outcomes = await Promise.all(held);
    const twice = sentTwice();
    console.log(
      `      kill with 5 requests read by the edge: statuses ${JSON.stringify(outcomes.map((o) => o.code ?? o.status))}, regions ` +
        `${JSON.stringify(outcomes.map((o) => o.region ?? "-"))}; sent again to central: ${JSON.stringify(twice)}`,
    );
    assert.deepEqual(twice, [], "a POST the upstream had received was retried at another region (ECONNRESET taken for a fast failure)");
  });

  it("freeze: requests held at the frozen edge get 504 after upstreamTimeoutMs, and traffic moves to central once it is ejected", async () => {
    const traffic = load();
    await until(() => edge.received.length >= BEFORE);
    const frozenAt = performance.now();
    const receivedAtFreeze = edge.received.length;
    // The edge stops answering: connections stay open, requests are read and never answered.
    edge.behaviour = { ...edge.behaviour, hold: new Promise<void>(() => undefined) };
    // The edge is ejected just before the EJECT_AFTER-th timeout is answered; any request a client starts after it sees that answer goes to central.
    await until(() => traffic.outcomes.filter((o) => o.status === 504).length >= EJECT_AFTER);
    const ejectedBy = traffic.outcomes.filter((o) => o.status === 504)[EJECT_AFTER - 1].ended;
    const receivedByEjection = edge.received.length;
    await until(() => traffic.outcomes.filter((o) => o.started > ejectedBy).length >= AFTER);
    await traffic.stop();

    const { outcomes } = traffic;
    const held = edge.received.length - receivedAtFreeze;
    const failures = outcomes.filter((o) => o.status !== 200);
    const timedOut = failures.filter((o) => o.code === "GATEWAY_TIMEOUT");
    const after = outcomes.filter((o) => o.started > ejectedBy);
    const waited = timedOut.map((o) => o.ended - o.started).sort((a, b) => a - b);
    console.log(
      `      freeze: ${outcomes.length} requests; ${held} held at the frozen edge; failed in flight: ${failures.length} ` +
        `${describeFailures(failures)} (each after ${Math.round(waited[0])}-${Math.round(waited.at(-1)!)} ms); ` +
        `edge ejected ${Math.round(ejectedBy - frozenAt)} ms after the freeze; ` +
        `${after.length} after that, ${after.filter((o) => o.region === "central").length} from central`,
    );

    assert.equal(timedOut.length, failures.length, `every failure is 504 GATEWAY_TIMEOUT: ${describeFailures(failures)}`);
    assert.equal(failures.length, held, "exactly the requests held at the frozen edge failed");
    assert.ok(waited[0] >= 900, `a request timed out after ${Math.round(waited[0])} ms, before upstreamTimeoutMs`);
    // Each client has one request in flight; until the edge is ejected a client whose request already timed out may send one more there.
    assert.ok(failures.length <= CLIENTS + EJECT_AFTER - 1, `${failures.length} failures with ${CLIENTS} clients`);
    assert.deepEqual(
      after.filter((o) => o.status !== 200 || o.region !== "central").slice(0, 3),
      [],
      "every request after the ejection is served by central",
    );
    assert.equal(edge.received.length, receivedByEjection, "the frozen edge got no request after it was ejected");
  });
});
