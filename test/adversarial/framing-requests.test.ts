import assert from "node:assert/strict";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { App, type SpecV1 } from "../../sdk";
import { RawConnection, rawExchange } from "../support/raw-http";
import { until } from "../support/until";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN, scrape } from "../support/metrics-token";

const KEY = "key-framing-0123456789";

/** Routes of every shape the attacks aim at: a GET, public and keyed POSTs, a limited and a cached one. */
function framingSpec(): SpecV1 {
  const app = new App("framing");
  const central = app.region("central", { kind: "central", placement: {} });
  const fn = (name: string) => app.function(name, { handler: `${name}.ts`, regions: [central] });
  app.route("GET /items", { target: fn("items") });
  app.route("POST /open", { target: fn("open"), auth: "none" });
  app.route("POST /secure", { target: fn("secure") });
  app.route("POST /limited", { target: fn("limited"), rateLimit: { requests: 2, per: "1 minute", key: "api-key" } });
  app.route("POST /cached", { target: fn("cached"), cache: { ttl: "30 seconds", varyHeaders: [] } });
  return app.toSpec({ root: undefined });
}

/** A request line and headers (CRLF-joined), then `body` as it is. */
const raw = (head: string[], body = "") => `${head.join("\r\n")}\r\n\r\n${body}`;

/** A request the attacker hides in a body: it would reach the backend with a forged tenant and no key. */
const SMUGGLED = raw(
  ["POST /_cloudloom/functions/secure HTTP/1.1", "Host: backend", "x-cloudloom-tenant: t-forged", "Content-Length: 2"],
  "{}",
);

describe("request framing and targets (raw sockets)", function () {
  this.timeout(60_000);
  const spec = framingSpec();
  let upstream: StubUpstream;
  let gateway: ComposedGateway | undefined;
  let port: number;

  async function start(settings: Record<string, unknown> = {}): Promise<void> {
    await gateway?.close();
    const functions = Object.fromEntries(Object.keys(spec.functions).map((name) => [name, { central: upstream.url }]));
    gateway = composeGateway({
      spec,
      settings: parseSettings({ apiKeys: [KEY], health: { probeIntervalMs: 60_000 }, metricsToken: METRICS_TOKEN, ...settings }),
      source: { kind: "remote", endpoints: { functions, models: {} } },
      logger: pino({ level: "silent" }),
    });
    ({ port } = await gateway.gateway.listen(0));
  }

  /** Waits until the gateway's metrics match `pattern` (the request is recorded once it has finished). */
  async function metricMatches(pattern: RegExp): Promise<void> {
    while (!pattern.test(await (await scrape(`http://127.0.0.1:${port}/metrics`)).text())) await new Promise((r) => setTimeout(r, 20));
  }

  /** Sends a well-formed request and waits for the upstream to have received `count` requests in all. */
  async function legitimate(count: number): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${port}/open`, { method: "POST", body: "{}" });
    assert.equal(res.status, 200);
    await until(() => upstream.received.length >= count);
  }

  beforeEach(async () => {
    upstream = await new StubUpstream("central").start();
    await start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await upstream.kill();
  });

  for (const [framing, head, body] of [
    ["Content-Length", [`Content-Length: ${Buffer.byteLength(SMUGGLED)}`], SMUGGLED],
    ["chunked", ["Transfer-Encoding: chunked"], `${Buffer.byteLength(SMUGGLED).toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`],
  ] as const) {
    it(`never lets a GET's ${framing} body reach the backend as a second request`, async () => {
      const { responses } = await rawExchange(
        port,
        raw(["GET /items HTTP/1.1", "Host: gateway", `Authorization: Bearer ${KEY}`, ...head], body),
      );
      assert.ok(responses[0].status === 200 || responses[0].status === 400, `answered ${responses[0].status}`);
      // The follow-up rides the same keep-alive upstream connection: a smuggled request would have arrived before it.
      await legitimate(responses[0].status === 200 ? 2 : 1);
      const tenants = upstream.received.map((r) => r.headers["x-cloudloom-tenant"]);
      assert.equal(upstream.received.length, responses[0].status === 200 ? 2 : 1, `upstream saw ${JSON.stringify(upstream.received)}`);
      assert.ok(!tenants.includes("t-forged"));
      if (responses[0].status === 200) {
        assert.equal(upstream.received[0].path, "/_cloudloom/functions/items");
        assert.equal(upstream.received[0].body, SMUGGLED, "the body is forwarded whole, framed by its exact length");
      }
    });
  }

  it("refuses Content-Length with Transfer-Encoding, and duplicate or ambiguous lengths, with 400 and sends nothing upstream", async () => {
    for (const head of [
      ["Content-Length: 2", "Transfer-Encoding: chunked"],
      ["Transfer-Encoding: chunked", "Content-Length: 2"],
      ["Content-Length: 2", "Content-Length: 2"],
      ["Content-Length: 2", "Content-Length: 40"],
      ["Content-Length: 2, 40"],
      ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
      ["Transfer-Encoding: chunked, identity"],
    ]) {
      const { responses, closed } = await rawExchange(port, raw(["POST /open HTTP/1.1", "Host: gateway", ...head], "2\r\n{}\r\n0\r\n\r\n"));
      assert.equal(responses[0]?.status, 400, head.join(" | "));
      assert.ok(closed, `${head.join(" | ")}: the connection closes, so nothing after the guess is parsed`);
    }
    await legitimate(1);
    assert.equal(upstream.received.length, 1);
  });

  it("answers a chunked body that never ends with 408 within seconds, and frees the caller's slot", async () => {
    await start({ limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 1_500, perKeyConcurrency: 1 } });
    const started = performance.now();
    const connection = await RawConnection.open(port);
    connection.write(raw(["POST /open HTTP/1.1", "Host: gateway", "Transfer-Encoding: chunked"], "2\r\n{}\r\n"));
    const response = await connection.response();
    await connection.closed;
    const seconds = (performance.now() - started) / 1000;
    assert.equal(response?.status, 408);
    assert.ok(seconds < 10, `answered after ${seconds.toFixed(1)} s, not within seconds of the 1.5 s timeout`);
    assert.equal(upstream.received.length, 0);
    // perKeyConcurrency 1 on a public route: the same address gets its slot back.
    await legitimate(1);
    await metricMatches(
      /http_server_request_duration_seconds_count\{http_request_method="POST",http_route="\/open",http_response_status_code="408",region="-",version="-"\} 1/,
    );
  });

  it("closes a connection whose headers trickle in, within seconds of headersTimeoutMs", async () => {
    await start({ limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 } });
    const started = performance.now();
    const connection = await RawConnection.open(port);
    connection.write("POST /open HTTP/1.1\r\nHost: gateway\r\n");
    // The slowloris: a byte of another header line every 100 ms, for as long as the gateway listens.
    const drip = setInterval(() => connection.write("x"), 100);
    const response = await connection.response();
    await connection.closed;
    clearInterval(drip);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(response === undefined || response.status === 408, `answered ${response?.status}`);
    assert.ok(seconds < 10, `closed after ${seconds.toFixed(1)} s, not within seconds of the 1 s timeout`);
    assert.equal(upstream.received.length, 0);
  });

  it("authenticates and limits each of several pipelined requests on one connection", async () => {
    const withKey = (path: string) => raw([`POST ${path} HTTP/1.1`, "Host: gateway", `x-api-key: ${KEY}`, "Content-Length: 2"], "{}");
    const withoutKey = (path: string) => raw([`POST ${path} HTTP/1.1`, "Host: gateway", "Content-Length: 2"], "{}");
    const { responses } = await rawExchange(port, withKey("/secure") + withoutKey("/secure") + withKey("/secure"), 3);
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 401, 200],
    );
    const limited = await rawExchange(port, withKey("/limited").repeat(3), 3);
    assert.deepEqual(
      limited.responses.map((r) => r.status),
      [200, 200, 429],
    );
    assert.equal(upstream.received.length, 4);
  });

  it("matches no route for absolute-form targets or path variants, so none skips auth or reaches a backend", async () => {
    const targets = [
      "http://evil/items",
      "http://gateway/secure",
      "//secure",
      "/./secure",
      "/secure/.",
      "/x/../secure",
      "/%73ecure",
      "%2Fsecure",
      "/%2Fsecure",
      "/SECURE",
      "/Secure",
      "/secure/",
      "/secure;a=b",
      "/secure%00",
      "/secure%20",
      "/healthz/../secure",
      "/admin/../secure",
      "/metrics/../secure",
      "*",
    ];
    for (const target of targets) {
      const { responses } = await rawExchange(port, raw([`POST ${target} HTTP/1.1`, "Host: gateway", "Content-Length: 2"], "{}"));
      const status = responses[0]?.status ?? 0;
      assert.ok(status === 400 || status === 404, `${target} answered ${status}`);
    }
    const get = await rawExchange(port, raw(["GET http://evil/items HTTP/1.1", "Host: evil"]));
    assert.ok([400, 404].includes(get.responses[0].status), `absolute-form GET answered ${get.responses[0].status}`);
    assert.equal(upstream.received.length, 0);
  });

  it("never passes a client's x-cloudloom-* headers or credentials to a backend, streamed or cached", async () => {
    const forged = {
      "content-type": "application/json",
      "x-cloudloom-tenant": "t-forged",
      "x-cloudloom-version": "forged",
      "x-cloudloom-locality": "de",
      "X-Cloudloom-Admin": "forged",
      "proxy-authorization": "Basic Zm9yZ2Vk",
    };
    await fetch(`http://127.0.0.1:${port}/open`, { method: "POST", body: "{}", headers: { ...forged, authorization: `Bearer ${KEY}` } });
    await fetch(`http://127.0.0.1:${port}/secure`, { method: "POST", body: "{}", headers: { ...forged, "x-api-key": KEY } });
    await fetch(`http://127.0.0.1:${port}/cached`, { method: "POST", body: "{}", headers: { ...forged, authorization: `Bearer ${KEY}` } });
    assert.equal(upstream.received.length, 3);
    for (const { path, headers } of upstream.received) {
      const leaked = Object.keys(headers).filter(
        (name) =>
          ["authorization", "x-api-key", "proxy-authorization"].includes(name) ||
          (name.startsWith("x-cloudloom-") && name !== "x-cloudloom-tenant"),
      );
      assert.deepEqual(leaked, [], `${path} got ${leaked.join(", ")}`);
      assert.match(String(headers["x-cloudloom-tenant"]), path.endsWith("/open") ? /^public$/ : /^t-[0-9a-f]{12}$/);
    }
  });
});
