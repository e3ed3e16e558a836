import assert from "node:assert/strict";
import type { Gateway } from "../../gateway/gateway";
import { Pool } from "undici";
import { endpointsFor, gatewaySpec, KEY_A, KEY_B, post, startGateway } from "../support/gateway-app";
import { until } from "../support/until";
import { StubUpstream } from "../support/upstream";
import { scrape } from "../support/metrics-token";

const json = async (response: Response): Promise<any> => response.json();

describe("gateway over remote upstreams (real sockets)", () => {
  let central: StubUpstream;
  let edge: StubUpstream;
  let gateway: Gateway;
  let base: string;

  beforeEach(async () => {
    central = await new StubUpstream("central").start();
    edge = await new StubUpstream("edge").start();
    ({ gateway, base } = await startGateway(gatewaySpec(), central, edge, { trustProxyHops: 0 }));
  });
  afterEach(async () => {
    await gateway.close();
    await central.kill();
    await edge.kill();
  });

  it("proxies to the backend's internal endpoint without forwarding the client's key", async () => {
    const res = await post(base, "/open", { hello: "world" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-cloudloom-region"), "central");
    assert.equal(central.received[0].path, "/_cloudloom/functions/open");
    assert.equal(central.received[0].body, '{"hello":"world"}');
    const withKey = await post(base, "/echo", {}, KEY_A);
    assert.equal(withKey.status, 200);
    const forwarded = central.received[1].headers;
    assert.equal(forwarded.authorization, undefined);
    assert.match(String(forwarded["x-cloudloom-tenant"]), /^t-[0-9a-f]{12}$/);
  });

  it("answers 401, 404, 405, 413 and 429 with JSON error bodies", async () => {
    const unauthorized = await post(base, "/echo", {});
    assert.equal(unauthorized.status, 401);
    assert.deepEqual(await json(unauthorized), {
      error: { code: "UNAUTHORIZED", message: "this route needs an API key: send Authorization: Bearer <key>" },
    });
    assert.equal((await json(await post(base, "/echo", {}, "wrong-key-0123456789"))).error.code, "UNAUTHORIZED");
    const missing = await post(base, "/nowhere");
    assert.equal(missing.status, 404);
    assert.equal((await json(missing)).error.code, "NOT_FOUND");
    const wrongMethod = await fetch(`${base}/open`);
    assert.equal(wrongMethod.status, 405);
    const large = await post(base, "/open", { blob: "x".repeat(2_000_000) });
    assert.equal(large.status, 413);
    assert.equal((await json(large)).error.code, "PAYLOAD_TOO_LARGE");
    await post(base, "/by-ip");
    await post(base, "/by-ip");
    const limited = await post(base, "/by-ip");
    assert.equal(limited.status, 429);
    assert.equal((await json(limited)).error.code, "RATE_LIMITED");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    assert.equal(limited.headers.get("ratelimit-policy"), '"route";q=2;w=60');
    assert.match(limited.headers.get("ratelimit") ?? "", /^"route";r=0;t=\d+$/);
  });

  it("sends RateLimit headers on every limited route's response", async () => {
    const res = await post(base, "/limited", {}, KEY_A);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("ratelimit-policy"), '"route";q=10;w=60');
    assert.match(res.headers.get("ratelimit") ?? "", /^"route";r=9;t=\d+$/);
  });

  it("gives a spoofed X-Forwarded-For nothing when no proxy is trusted", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(base, "/by-ip", {}, undefined, { "x-forwarded-for": `10.0.0.${i}` })).status);
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    const spoofedLocality = await post(base, "/open", {}, undefined, { "x-forwarded-for": "203.0.113.9" });
    assert.equal(spoofedLocality.headers.get("x-cloudloom-region"), "central");
  });

  it("never serves one API key's cached response to another", async () => {
    const a1 = await post(base, "/echo", { q: 1 }, KEY_A);
    const a2 = await post(base, "/echo", { q: 1 }, KEY_A);
    const b1 = await post(base, "/echo", { q: 1 }, KEY_B);
    assert.deepEqual([a1.headers.get("x-cache"), a2.headers.get("x-cache"), b1.headers.get("x-cache")], ["MISS", "HIT", "MISS"]);
    assert.equal(central.received.length, 2);
    assert.ok(Number(a2.headers.get("age")) >= 0);
  });

  it("keys the cache on the normalized body and the declared vary headers", async () => {
    await post(base, "/echo", { a: 1, b: 2 }, KEY_A);
    const reordered = await post(base, "/echo", { b: 2, a: 1 }, KEY_A);
    assert.equal(reordered.headers.get("x-cache"), "HIT");
    const otherLanguage = await post(base, "/echo", { a: 1, b: 2 }, KEY_A, { "accept-language": "de" });
    assert.equal(otherLanguage.headers.get("x-cache"), "MISS");
  });

  it("honors no-store and never stores Set-Cookie or non-2xx responses", async () => {
    central.behaviour = { status: 200, headers: { "cache-control": "no-store" }, delayMs: 0 };
    const first = await post(base, "/echo", { n: 1 }, KEY_A);
    const second = await post(base, "/echo", { n: 1 }, KEY_A);
    assert.deepEqual([first.headers.get("x-cache"), second.headers.get("x-cache")], ["BYPASS", "BYPASS"]);
    central.behaviour = { status: 200, headers: { "set-cookie": "s=1" }, delayMs: 0 };
    await post(base, "/echo", { n: 2 }, KEY_A);
    assert.equal((await post(base, "/echo", { n: 2 }, KEY_A)).headers.get("x-cache"), "BYPASS");
    central.behaviour = { status: 404, headers: {}, delayMs: 0 };
    await post(base, "/echo", { n: 3 }, KEY_A);
    assert.equal((await post(base, "/echo", { n: 3 }, KEY_A)).headers.get("x-cache"), "BYPASS");
    assert.equal(central.received.length, 6);
  });

  it("makes one upstream call for concurrent misses on one key (single flight)", async () => {
    central.behaviour = { status: 200, headers: {}, delayMs: 100 };
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(base, "/echo", { same: true }, KEY_A)));
    assert.ok(responses.every((r) => r.status === 200));
    assert.equal(central.received.length, 1);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    assert.equal(new Set(bodies).size, 1);
  });

  it("serves requests that name no locality from the gateway's own edge region, when it runs in one", async () => {
    await gateway.close();
    ({ gateway, base } = await startGateway(gatewaySpec(), central, edge, { locality: { home: "de" } }));
    assert.equal((await post(base, "/open")).headers.get("x-cloudloom-region"), "edge");
    assert.equal((await post(base, "/open", {}, undefined, { "x-cloudloom-locality": "fr" })).headers.get("x-cloudloom-region"), "central");
  });

  it("routes to the nearest healthy edge, and fails over to central when the edge dies", async () => {
    const near = await post(base, "/open", {}, undefined, { "x-cloudloom-locality": "de" });
    assert.equal(near.headers.get("x-cloudloom-region"), "edge");
    await edge.kill();
    const statuses: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await post(base, "/open", {}, undefined, { "x-cloudloom-locality": "de" });
      statuses.push(`${res.status} ${res.headers.get("x-cloudloom-region")}`);
    }
    assert.deepEqual(new Set(statuses), new Set(["200 central"]));
  });

  it("opens the circuit after consecutive failures and closes it when the upstream recovers", async () => {
    await gateway.close();
    ({ gateway, base } = await startGateway(gatewaySpec(), central, edge, {
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
      health: { ejectAfter: 100, probeIntervalMs: 60_000 },
    }));
    // 503 is a gateway failure; a 500 is the request's own and opens nothing (test/adversarial/outlier-detection.test.ts).
    central.behaviour = { status: 503, headers: {}, delayMs: 0 };
    const failing = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(base, "/open");
      failing.push(`${res.status} ${(await json(res))?.error?.code ?? "upstream"}`);
    }
    assert.deepEqual(failing, ["503 upstream", "503 upstream", "503 upstream", "503 NO_HEALTHY_BACKEND", "503 NO_HEALTHY_BACKEND"]);
    assert.equal(central.received.length, 3, "an open circuit sends nothing upstream");
    assert.match(await (await scrape(`${base}/metrics`)).text(), /cloudloom_breaker_state\{route="POST \/open",region="central"\} 2/);
    central.behaviour = { status: 200, headers: {}, delayMs: 0 };
    await new Promise((r) => setTimeout(r, 350));
    assert.equal((await post(base, "/open")).status, 200);
    assert.equal((await post(base, "/open")).status, 200);
  });

  it("splits canary traffic within tolerance over 10,000 requests", async () => {
    const counts: Record<string, number> = {};
    const clients = 50;
    const pool = new Pool(base, { connections: clients });
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < 10_000 / clients; i++) {
          const res = await pool.request({
            path: "/model",
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"inputs":{"x":[1]}}',
          });
          await res.body.dump();
          const version = String(res.headers["x-cloudloom-version"]);
          counts[version] = (counts[version] ?? 0) + 1;
        }
      }),
    );
    await pool.close();
    assert.equal(counts["1"] + counts["2"], 10_000);
    assert.ok(Math.abs(counts["2"] / 10_000 - 0.1) < 0.015, `v2 got ${counts["2"]} of 10,000`);
    assert.ok(central.received.every((r) => r.path === "/_cloudloom/models/m%401" || r.path === "/_cloudloom/models/m%402"));
  });

  it("reloads under load with no failed request", async () => {
    let failures = 0;
    let done = 0;
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 20 }, async () => {
        while (!stop) {
          const res = await post(base, "/model", { inputs: { x: [1] } });
          await res.arrayBuffer();
          if (res.status !== 200) failures++;
          done++;
        }
      }),
    );
    // Each configuration serves a share of the load before the next replaces it, however fast the machine is.
    const served = async (requests: number) => {
      const from = done;
      await until(() => done >= from + requests);
    };
    for (const weights of [
      { v1: 50, v2: 50 },
      { v1: 0, v2: 100 },
      { v1: 100, v2: 0 },
    ]) {
      await served(40);
      await gateway.reload(gatewaySpec(weights), { kind: "remote", endpoints: endpointsFor(gatewaySpec(weights), central, edge) });
    }
    await served(40);
    stop = true;
    await load;
    assert.equal(failures, 0);
    assert.ok(done >= 160, `only ${done} requests ran`);
    const after = await post(base, "/model", { inputs: { x: [1] } });
    assert.equal(after.headers.get("x-cloudloom-version"), "1", "the last reload (v1 100%) is in force");
  });

  it("refuses over-long URLs (414) and caps requests in flight per caller (429)", async () => {
    const long = await post(base, `/open?${"q".repeat(3000)}`);
    assert.equal(long.status, 414);
    assert.equal((await json(long)).error.code, "URI_TOO_LONG");
    await gateway.close();
    ({ gateway, base } = await startGateway(gatewaySpec(), central, edge, { limits: { perKeyConcurrency: 2 } }));
    let release = () => {};
    central.behaviour = { status: 200, headers: {}, delayMs: 0, hold: new Promise<void>((resolve) => (release = resolve)) };
    const received = central.received.length;
    const first = [post(base, "/open"), post(base, "/open")];
    await until(() => central.received.length === received + 2);
    const refused = await post(base, "/open");
    assert.equal(refused.status, 429);
    assert.equal((await json(refused)).error.code, "CONCURRENCY_LIMIT");
    release();
    assert.deepEqual(
      (await Promise.all(first)).map((r) => r.status),
      [200, 200],
    );
  });

  it("reloads through the admin endpoint only with the admin key", async () => {
    await gateway.close();
    const { composeGateway } = await import("../../cli/compose-gateway.js");
    const { parseSettings } = await import("../../gateway/config.js");
    const pino = (await import("pino")).default;
    let reloads = 0;
    gateway = composeGateway({
      spec: gatewaySpec(),
      settings: parseSettings({ adminKey: "admin-key-0123456789" }),
      source: { kind: "remote", endpoints: endpointsFor(gatewaySpec(), central, edge) },
      logger: pino({ level: "silent" }),
      reloadFrom: async () => (
        reloads++,
        {
          spec: gatewaySpec({ v1: 0, v2: 100 }),
          source: { kind: "remote" as const, endpoints: endpointsFor(gatewaySpec(), central, edge) },
        }
      ),
    }).gateway;
    base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
    const denied = await fetch(`${base}/admin/reload`, { method: "POST", headers: { "x-admin-key": "wrong-key-0123456789" } });
    assert.equal(denied.status, 401);
    assert.equal(reloads, 0);
    const accepted = await fetch(`${base}/admin/reload`, { method: "POST", headers: { "x-admin-key": "admin-key-0123456789" } });
    assert.deepEqual(await json(accepted), { reloaded: true, routes: 8 });
    assert.equal((await post(base, "/model", { inputs: { x: [1] } })).headers.get("x-cloudloom-version"), "2");
  });

  it("readmits an ejected edge once its active health probe succeeds", async () => {
    await gateway.close();
    ({ gateway, base } = await startGateway(gatewaySpec(), central, edge, { health: { probeIntervalMs: 50, ejectForMs: 60_000 } }));
    const port = Number(new URL(edge.url).port);
    await edge.kill();
    assert.equal((await post(base, "/open", {}, undefined, { "x-cloudloom-locality": "de" })).headers.get("x-cloudloom-region"), "central");
    edge = await new StubUpstream("edge").start(port);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await post(base, "/open", {}, undefined, { "x-cloudloom-locality": "de" })).headers.get("x-cloudloom-region"), "edge");
  });
});
