import assert from "node:assert/strict";
import type { BufferedResponse } from "../../../../gateway/backends/backend";
import { parseSettings } from "../../../../gateway/config";
import { callPolicy } from "../../../../gateway/invoke";
import { GatewayMetrics } from "../../../../gateway/metrics";
import { cacheKey, ResponseCache, storability, type StoredResponse } from "../../../../gateway/response-cache";
import { cache } from "../../../../gateway/stages/cache";
import { metricsRegistry } from "../../../../runtime/metrics";
import { exchange, request, route, target } from "./exchange-fixture";

const body = Buffer.from('{"a":1,"b":2}');
const json = { "content-type": "application/json" };

describe("cache key", () => {
  it("scopes entries by tenant, route and method", () => {
    const key = cacheKey("t-a", "POST /x", "POST", body, json, []);
    assert.notEqual(cacheKey("t-b", "POST /x", "POST", body, json, []), key);
    assert.notEqual(cacheKey("t-a", "POST /y", "POST", body, json, []), key);
    assert.notEqual(cacheKey("t-a", "POST /x", "PUT", body, json, []), key);
  });

  it("hashes the canonical JSON body, so key order does not matter but content does", () => {
    const key = cacheKey("t-a", "POST /x", "POST", body, json, []);
    assert.equal(cacheKey("t-a", "POST /x", "POST", Buffer.from('{"b":2,"a":1}'), json, []), key);
    assert.notEqual(cacheKey("t-a", "POST /x", "POST", Buffer.from('{"a":1,"b":3}'), json, []), key);
  });

  it("varies on the declared headers only", () => {
    const key = (headers: Record<string, string>) => cacheKey("t-a", "POST /x", "POST", body, { ...json, ...headers }, ["accept-language"]);
    assert.notEqual(key({ "accept-language": "de" }), key({ "accept-language": "fr" }));
    assert.equal(key({ "user-agent": "one" }), key({ "user-agent": "two" }));
  });
});

describe("storability", () => {
  it("stores 2xx responses, as long as upstream allows (max-age bounds the TTL)", () => {
    assert.deepEqual(storability(200, {}), { storable: true, maxTtlMs: Number.POSITIVE_INFINITY });
    // http-cache-semantics subtracts the milliseconds since the response arrived, so the bound is 5 s at most.
    const bounded = storability(200, { "cache-control": "max-age=5" });
    assert.equal(bounded.storable, true);
    assert.ok(bounded.maxTtlMs <= 5_000 && bounded.maxTtlMs > 4_000, String(bounded.maxTtlMs));
  });

  it("never stores no-store, private, max-age=0, Set-Cookie or non-2xx responses", () => {
    for (const [status, headers] of [
      [200, { "cache-control": "no-store" }],
      [200, { "cache-control": "private" }],
      [200, { "cache-control": "max-age=0" }],
      [200, { "set-cookie": "s=1" }],
      [404, {}],
      [500, {}],
    ] as const)
      assert.equal(storability(status, headers).storable, false, `${status} ${JSON.stringify(headers)}`);
  });
});

const stored = (text: string, storable = true): StoredResponse => ({
  status: 200,
  headers: {},
  body: Buffer.from(text),
  storedAt: Date.now(),
  storable,
  maxTtlMs: storable ? Number.POSITIVE_INFINITY : 0,
});

describe("response cache", () => {
  it("makes one load for concurrent misses on one key, and hits afterwards", async () => {
    const responses = new ResponseCache(100);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = async () => {
      loads++;
      await gate;
      return stored("once");
    };
    const pending = Array.from({ length: 10 }, () => responses.get("k", 60_000, load));
    release();
    const results = await Promise.all(pending);
    assert.equal(loads, 1);
    assert.deepEqual(
      results.map((r) => r.hit),
      [false, ...new Array(9).fill(true)],
    );
    assert.ok(results.every((r) => r.response.body.toString() === "once"));
    assert.equal((await responses.get("k", 60_000, load)).hit, true);
    assert.equal(loads, 1);
  });

  it("does not keep what may not be stored", async () => {
    const responses = new ResponseCache(100);
    let loads = 0;
    const load = async () => (loads++, stored("private", false));
    await responses.get("k", 60_000, load);
    await responses.get("k", 60_000, load);
    assert.equal(loads, 2);
  });
});

describe("cache stage", () => {
  const metrics = new GatewayMetrics(metricsRegistry());
  const calls = callPolicy(parseSettings({}), metrics);
  let upstream: BufferedResponse;
  let received = 0;
  const fn = target(async () => (received++, upstream));
  const cached = route("POST /c", {}, new Map([["-", fn]]), { cache: { ttlMs: 60_000, vary: [] } });
  const stage = cache(new ResponseCache(100), calls, metrics);

  async function post(text: string) {
    const x = exchange(request({ url: "/c", headers: json }), cached);
    x.target = fn;
    x.body = Buffer.from(text);
    await stage.run!(x);
    return x;
  }

  beforeEach(() => {
    upstream = { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from('{"ok":true}') };
    received = 0;
  });

  it("passes routes without a cache", () => {
    const x = exchange(request(), route("POST /x"));
    assert.equal(stage.run!(x), undefined);
    assert.equal(x.answered, false);
  });

  it("answers a miss from the backend, then a hit from the cache, with X-Cache, Age and the region", async () => {
    const miss = await post('{"q":1}');
    assert.deepEqual([miss.answered, miss.res.statusCode, miss.res.getHeader("x-cache")], [true, 200, "MISS"]);
    assert.equal(miss.res.getHeader("x-cloudloom-region"), "central");
    const hit = await post('{"q":1}');
    assert.equal(hit.res.getHeader("x-cache"), "HIT");
    assert.ok(Number(hit.res.getHeader("age")) >= 0);
    assert.deepEqual([hit.record.cache, hit.record.region], ["HIT", "central"]);
    assert.equal(received, 1);
  });

  it("passes on what may not be stored as BYPASS, calling the backend each time", async () => {
    upstream = { status: 200, headers: { "cache-control": "no-store" }, body: Buffer.from("{}") };
    assert.equal((await post('{"q":2}')).res.getHeader("x-cache"), "BYPASS");
    assert.equal((await post('{"q":2}')).res.getHeader("x-cache"), "BYPASS");
    assert.equal(received, 2);
  });
});
