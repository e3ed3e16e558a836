import assert from "node:assert/strict";
import type { BackendRequest, BufferedResponse } from "../../../../gateway/backends/backend";
import { parseSettings } from "../../../../gateway/config";
import { callPolicy } from "../../../../gateway/invoke";
import { GatewayMetrics } from "../../../../gateway/metrics";
import {
  MAX_CANONICAL_BYTES,
  MAX_JSON_DEPTH,
  MAX_REMEMBERED_BODY_BYTES,
  nestsDeeperThan,
  normalizedAcceptEncoding,
  normalizedQuery,
  primaryKey,
  requestAsSent,
  ResponseCache,
  responseVary,
  storability,
  variantKey,
  type StoredResponse,
} from "../../../../gateway/response-cache";
import { cache } from "../../../../gateway/stages/cache";
import type { ServingError } from "../../../../runtime/contract";
import { metricsRegistry } from "../../../../runtime/metrics";
import { exchange, request, route, target } from "./exchange-fixture";

const body = Buffer.from('{"a":1,"b":2}');
const json = { "content-type": "application/json" };

/** The primary key of a request to POST /x, with `overrides`. */
function primary(overrides: Partial<Parameters<typeof primaryKey>[0]> = {}): string {
  return primaryKey({
    tenant: "t-a",
    route: "POST /x",
    method: "POST",
    version: "fn",
    url: "/x",
    contentType: "application/json",
    body,
    ...overrides,
  });
}

describe("cache key", () => {
  it("scopes entries by tenant, route, method and version", () => {
    const key = primary();
    for (const other of [{ tenant: "t-b" }, { route: "POST /y" }, { method: "PUT" }, { version: "m@2" }])
      assert.notEqual(primary(other), key, JSON.stringify(other));
  });

  it("hashes the canonical JSON body, so key order does not matter but content does", () => {
    assert.equal(primary({ body: Buffer.from('{"b":2,"a":1}') }), primary());
    assert.notEqual(primary({ body: Buffer.from('{"a":1,"b":3}') }), primary());
  });

  it("keys on the content type and the normalized query", () => {
    assert.notEqual(primary({ contentType: "text/plain" }), primary());
    assert.notEqual(primary({ url: "/x?lang=evil" }), primary());
    assert.equal(primary({ url: "/x?b=2&a=1" }), primary({ url: "/x?a=1&b=2" }));
    assert.equal(primary({ url: "/x?a=%41" }), primary({ url: "/x?a=A" }));
    assert.notEqual(primary({ url: "/x?a=1&a=2" }), primary({ url: "/x?a=2&a=1" }));
    assert.equal(normalizedQuery("/x?z=1&a=2&a=1"), "a=2&a=1&z=1");
  });

  it("hashes a JSON body over the canonicalization bound as sent, instead of parsing it", () => {
    const large = (order: "ab" | "ba") => {
      const pad = "x".repeat(MAX_CANONICAL_BYTES);
      return Buffer.from(order === "ab" ? JSON.stringify({ a: pad, b: 1 }) : JSON.stringify({ b: 1, a: pad }));
    };
    assert.notEqual(primary({ body: large("ab") }), primary({ body: large("ba") }));
    assert.equal(primary({ body: large("ab") }), primary({ body: large("ab") }));
  });

  it("refuses JSON nested deeper than the bound with INVALID_INPUT, counting only brackets outside strings", () => {
    const deep = Buffer.from(`${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`);
    assert.throws(
      () => primary({ body: deep }),
      (error: ServingError) => error.code === "INVALID_INPUT",
    );
    assert.doesNotThrow(() => primary({ body: deep, contentType: "application/octet-stream" }), "only JSON is parsed");
    const atBound = Buffer.from(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`);
    assert.equal(nestsDeeperThan(atBound, MAX_JSON_DEPTH), false);
    assert.equal(nestsDeeperThan(Buffer.from(JSON.stringify({ s: "[[[[{{{{", t: '"\\[' })), 2), false);
    assert.equal(nestsDeeperThan(Buffer.from('{"a":{"b":[1]}}'), 2), true);
  });

  it("writes each request as sent into one string no other request gives, for bodies up to the bound", () => {
    const parts = { tenant: "t-a", route: "POST /x", method: "POST", version: "fn", url: "/x", contentType: "application/json", body };
    const sent = requestAsSent(parts)!;
    assert.equal(requestAsSent({ ...parts, body: Buffer.from(body) }), sent);
    for (const other of [
      { tenant: "t-b" },
      { version: "m@2" },
      { contentType: undefined },
      { url: "/x?b=1" },
      { body: Buffer.from('{"b":2,"a":1}') },
    ])
      assert.notEqual(requestAsSent({ ...parts, ...other }), sent, JSON.stringify(other));
    assert.equal(requestAsSent({ ...parts, body: Buffer.alloc(MAX_REMEMBERED_BODY_BYTES + 1, 0x20) }), undefined);
  });

  it("picks the variant by the values of the varied headers only, telling absent from empty", () => {
    const key = (headers: Record<string, string>) => variantKey(primary(), ["accept-language"], { ...json, ...headers });
    assert.notEqual(key({ "accept-language": "de" }), key({ "accept-language": "fr" }));
    assert.equal(key({ "user-agent": "one" }), key({ "user-agent": "two" }));
    assert.notEqual(key({ "accept-language": "" }), key({}));
    assert.notEqual(variantKey(primary(), ["a"], {}), variantKey(primary(), ["a", "b"], {}), "the names are part of the key");
    assert.equal(variantKey(primary(), [], { "accept-language": "de" }), primary());
  });

  it("normalizes Accept-Encoding to the set of codings it accepts", () => {
    assert.equal(normalizedAcceptEncoding(undefined), "identity");
    assert.equal(normalizedAcceptEncoding("gzip, deflate, br"), "br,deflate,gzip");
    assert.equal(normalizedAcceptEncoding("BR;q=0.5 , gzip;q=1.0, x-custom"), "br,gzip");
    assert.equal(normalizedAcceptEncoding("gzip;q=0, br"), "br");
    assert.equal(normalizedAcceptEncoding("*, gzip;q=0.000"), "br,deflate,zstd");
    assert.equal(normalizedAcceptEncoding("identity"), "identity");
    assert.equal(normalizedAcceptEncoding(["gzip", "br"]), "br,gzip");
  });
});

describe("response vary", () => {
  it("adds the backend's Vary to the declared headers, and Accept-Encoding to encoded responses", () => {
    assert.deepEqual(responseVary(["accept-language"], {}), ["accept-language"]);
    assert.deepEqual(responseVary(["accept-language"], { vary: "X-Tier, accept-language" }), ["accept-language", "x-tier"]);
    assert.deepEqual(responseVary([], { "content-encoding": "gzip" }), ["accept-encoding"]);
    assert.deepEqual(responseVary([], { "content-encoding": "identity" }), []);
  });

  it("refuses what the key cannot hold: *, credentials, Host, hop-by-hop headers, malformed or too many names", () => {
    for (const vary of ["*", "x-a, *", "authorization", "x-api-key", "host", "connection", "bad name", "a@b"])
      assert.equal(responseVary([], { vary }), undefined, vary);
    const many = Array.from({ length: 17 }, (_, i) => `x-h${i}`).join(", ");
    assert.equal(responseVary([], { vary: many }), undefined);
    assert.equal(storability(200, { vary: "*" }).storable, false);
  });
});

describe("storability", () => {
  it("stores 2xx responses, as long as upstream allows (max-age bounds the TTL)", () => {
    assert.deepEqual(storability(200, {}, ["accept-language"]), {
      storable: true,
      maxTtlMs: Number.POSITIVE_INFINITY,
      vary: ["accept-language"],
    });
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

const stored = (text: string, storable = true, vary: string[] = []): StoredResponse => ({
  status: 200,
  headers: {},
  body: Buffer.from(text),
  storedAt: Date.now(),
  storable,
  maxTtlMs: storable ? Number.POSITIVE_INFINITY : 0,
  vary: storable ? vary : [],
});

const keyed = (key: string, headers: Record<string, string> = {}) => ({ primary: key, declared: [], headers });

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
    const pending = Array.from({ length: 10 }, () => responses.get(keyed("k"), 60_000, load));
    release();
    const results = await Promise.all(pending);
    assert.equal(loads, 1);
    assert.deepEqual(
      results.map((r) => r.outcome),
      ["MISS", ...new Array(9).fill("HIT")],
    );
    assert.ok(results.every((r) => r.response.body.toString() === "once"));
    assert.equal((await responses.get(keyed("k"), 60_000, load)).outcome, "HIT");
    assert.equal(loads, 1);
  });

  it("does not keep what may not be stored, and hands it to no request but the one it answered", async () => {
    const responses = new ResponseCache(100);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = async () => {
      const n = ++loads;
      await gate;
      return stored(`private ${n}`, false);
    };
    const pending = Array.from({ length: 3 }, () => responses.get(keyed("k"), 60_000, load));
    release();
    const results = await Promise.all(pending);
    assert.equal(loads, 3, "each waiter loaded its own");
    assert.deepEqual(new Set(results.map((r) => r.response.body.toString())), new Set(["private 1", "private 2", "private 3"]));
    assert.ok(results.every((r) => r.outcome === "BYPASS"));
    await responses.get(keyed("k"), 60_000, load);
    assert.equal(loads, 4);
  });

  it("remembers the primary key of a request answered from the L1, and only then", async () => {
    const responses = new ResponseCache(100);
    const parts = { tenant: "t-a", route: "POST /x", method: "POST", version: "fn", url: "/x", contentType: "application/json", body };
    const sent = requestAsSent(parts)!;
    const request = { primary: responses.primaryKeyOf(parts, sent), sent, declared: [], headers: {} };
    assert.equal(request.primary, primaryKey(parts));
    assert.equal(responses.lookup(request), undefined);
    assert.equal(responses.rememberedKey(sent), undefined, "a miss is not remembered");
    await responses.get(request, 60_000, async () => stored("once"));
    assert.equal(responses.rememberedKey(sent), undefined, "nor the fill");
    assert.equal(responses.lookup(request)?.body.toString(), "once");
    assert.equal(responses.rememberedKey(sent), request.primary, "a hit is");
    assert.equal(responses.primaryKeyOf(parts, sent), request.primary);
    // The same content in another key order is another request as sent, keyed as before: canonically.
    const reordered = { ...parts, body: Buffer.from('{"b":2,"a":1}') };
    assert.equal(responses.primaryKeyOf(reordered), request.primary);
  });

  it("keys a response's variant on the headers it varies on, learned from the first response", async () => {
    const responses = new ResponseCache(100);
    let loads = 0;
    const load = (tier: string) => async () => (loads++, stored(tier, true, ["x-tier"]));
    assert.equal((await responses.get(keyed("k", { "x-tier": "gold" }), 60_000, load("gold"))).outcome, "MISS");
    const free = await responses.get(keyed("k"), 60_000, load("free"));
    assert.deepEqual([free.outcome, free.response.body.toString()], ["MISS", "free"]);
    const gold = await responses.get(keyed("k", { "x-tier": "gold" }), 60_000, load("gold"));
    assert.deepEqual([gold.outcome, gold.response.body.toString()], ["HIT", "gold"]);
    assert.equal(loads, 2);
  });
});

describe("cache stage", () => {
  const metrics = new GatewayMetrics(metricsRegistry());
  const calls = callPolicy(parseSettings({}), metrics);
  let upstream: BufferedResponse;
  let received: BackendRequest[] = [];
  const fn = target(async (request) => (received.push(request), upstream));
  const canary = new Map([
    ["1", target(async (request) => (received.push(request), { ...upstream, body: Buffer.from('{"v":1}') }))],
    ["2", target(async (request) => (received.push(request), { ...upstream, body: Buffer.from('{"v":2}') }))],
  ]);
  canary.get("1")!.entry = "m@1";
  canary.get("2")!.entry = "m@2";
  const cached = route("POST /c", {}, new Map([["-", fn]]), { cache: { ttlMs: 60_000, vary: [] } });
  const declaring = route("POST /d", {}, new Map([["-", fn]]), { cache: { ttlMs: 60_000, vary: ["x-forwarded-host"] } });
  const split = route("POST /m", {}, canary, { cache: { ttlMs: 60_000, vary: [] } });
  const stage = cache(new ResponseCache(100), calls, metrics, "CF-IPCountry");

  async function post(text: string, headers: Record<string, string> = {}, on = cached, version = "-") {
    const x = exchange(request({ url: on.key.slice(5), headers: { ...json, ...headers } }), on);
    x.target = on.targets.get(version)!;
    x.body = Buffer.from(text);
    const answer = x.answer.bind(x);
    let served = "";
    x.answer = (response, region, extra) => {
      served = response.body.toString();
      answer(response, region, extra);
    };
    await stage.run!(x);
    return Object.assign(x, { served });
  }

  beforeEach(() => {
    upstream = { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from('{"ok":true}') };
    received = [];
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
    assert.equal(received.length, 1);
  });

  it("passes on what may not be stored as BYPASS, calling the backend each time", async () => {
    upstream = { status: 200, headers: { "cache-control": "no-store" }, body: Buffer.from("{}") };
    assert.equal((await post('{"q":2}')).res.getHeader("x-cache"), "BYPASS");
    assert.equal((await post('{"q":2}')).res.getHeader("x-cache"), "BYPASS");
    assert.equal(received.length, 2);
  });

  it("withholds forwarding headers and the configured locality header from the backend, and normalizes Accept-Encoding", async () => {
    await post('{"q":3}', {
      "x-forwarded-host": "evil.example",
      forwarded: "host=evil.example",
      "x-http-method-override": "DELETE",
      "cf-ipcountry": "XX",
      "accept-encoding": "gzip, br;q=0",
      "accept-language": "de",
    });
    const headers = received[0].headers;
    for (const name of ["x-forwarded-host", "forwarded", "x-http-method-override", "cf-ipcountry"])
      assert.equal(headers[name], undefined, name);
    assert.deepEqual([headers["accept-encoding"], headers["accept-language"]], ["gzip", "de"]);
  });

  it("forwards a forwarding header the route declares as a vary header, and keys on it", async () => {
    await post('{"q":4}', { "x-forwarded-host": "a.example" }, declaring);
    assert.equal(received[0].headers["x-forwarded-host"], "a.example");
    assert.equal((await post('{"q":4}', { "x-forwarded-host": "b.example" }, declaring)).res.getHeader("x-cache"), "MISS");
    assert.equal((await post('{"q":4}', { "x-forwarded-host": "a.example" }, declaring)).res.getHeader("x-cache"), "HIT");
  });

  it("keys on the version the split picked, so a hit is the version it reports", async () => {
    const v1 = await post('{"q":5}', {}, split, "1");
    const v2 = await post('{"q":5}', {}, split, "2");
    assert.deepEqual([v1.res.getHeader("x-cache"), v2.res.getHeader("x-cache")], ["MISS", "MISS"]);
    for (const version of ["1", "2"]) {
      const hit = await post('{"q":5}', {}, split, version);
      assert.deepEqual([hit.res.getHeader("x-cache"), JSON.parse(hit.served)], ["HIT", { v: Number(version) }]);
    }
    assert.equal(received.length, 2);
  });

  it("refuses JSON nested deeper than the bound before calling anyone", async () => {
    const deep = `${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`;
    await assert.rejects(post(deep), (error: ServingError) => error.code === "INVALID_INPUT");
    assert.equal(received.length, 0);
  });
});
