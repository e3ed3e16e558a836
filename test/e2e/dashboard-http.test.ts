import assert from "node:assert/strict";
import { request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { gatewaySpec, post, startGateway, type StartedGateway } from "../support/gateway-app";
import { scrape } from "../support/metrics-token";
import { StubUpstream } from "../support/upstream";

const ADMIN_KEY = "dashboard-admin-key-0123456789";
const UI = "/_cloudloom/ui";

const get = (base: string, path: string, headers: Record<string, string> = {}, method = "GET") =>
  fetch(`${base}${path}`, { method, headers });

/** Opens the event stream and resolves with the response once its headers arrive (the body stays open). */
function openStream(base: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request(`${base}${UI}/events`, { headers }, resolve).on("error", reject).end();
  });
}

/** Reads a stream until `pattern` appears in what it sent. */
function readUntil(stream: IncomingMessage, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
      if (pattern.test(text)) resolve(text);
    });
    stream.on("end", () => (pattern.test(text) ? resolve(text) : reject(new Error(`the stream ended without ${pattern}: ${text}`))));
  });
}

describe("the dashboard over HTTP", () => {
  describe("in front of a deployed stack (the admin key is required)", () => {
    let central: StubUpstream;
    let edge: StubUpstream;
    let gateway: StartedGateway;

    beforeEach(async () => {
      central = await new StubUpstream("central").start();
      edge = await new StubUpstream("edge").start();
      gateway = await startGateway(gatewaySpec(), central, edge, { adminKey: ADMIN_KEY, limits: { authFailures: { perAddress: 3 } } });
    });
    afterEach(async () => {
      await gateway.close();
      await central.kill();
      await edge.kill();
    });

    it("serves the page and its bundle to anyone (they hold no data), with a strict content security policy", async () => {
      const page = await get(gateway.base, UI);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type")!, /^text\/html/);
      assert.match(page.headers.get("content-security-policy")!, /default-src 'none'; script-src 'self';/);
      assert.equal(page.headers.get("x-frame-options"), "DENY");
      const html = await page.text();
      assert.ok(!html.includes("http://") && !html.includes("https://"), "no CDN");
      const script = await get(gateway.base, `${UI}/assets/dashboard.js`);
      assert.equal(script.status, 200);
      assert.match(script.headers.get("content-type")!, /^text\/javascript/);
      assert.ok((await script.text()).length > 10_000, "uPlot and the page, bundled");
      assert.match((await get(gateway.base, `${UI}/assets/dashboard.css`)).headers.get("content-type")!, /^text\/css/);
      assert.equal((await get(gateway.base, `${UI}/assets/%2e%2e%2fpage.ts`)).status, 404);
      assert.equal((await get(gateway.base, `${UI}/assets/other.js`)).status, 404);
    });

    it("refuses the graph and the stream without the admin key or with a wrong one, and sends them with it", async () => {
      for (const path of [`${UI}/graph.svg`, `${UI}/events`]) {
        const none = await get(gateway.base, path);
        assert.equal(none.status, 401, path);
        assert.deepEqual(await none.json(), { error: { code: "UNAUTHORIZED", message: "the admin key is not valid" } });
      }
      assert.equal((await get(gateway.base, `${UI}/graph.svg`, { "x-admin-key": "wrong-key-0123456789abc" })).status, 401);
      const svg = await get(gateway.base, `${UI}/graph.svg`, { "x-admin-key": ADMIN_KEY });
      assert.equal(svg.status, 200);
      assert.match(svg.headers.get("content-type")!, /^image\/svg\+xml/);
      assert.match(await svg.text(), /data-node="route:POST \/echo"/);
      const stream = await openStream(gateway.base, { "x-admin-key": ADMIN_KEY });
      assert.equal(stream.statusCode, 200);
      assert.match(stream.headers["content-type"]!, /^text\/event-stream/);
      const text = await readUntil(stream, /event: snapshot\ndata: \{.*\}\n\n/);
      assert.match(text, /event: history\ndata: \{"generation":"[0-9a-f]{12}","columns":\{"t":\[/);
      stream.destroy();
    });

    it("answers 429 to an address that keeps guessing the admin key, even once it guesses right", async () => {
      for (let i = 0; i < 3; i++)
        assert.equal((await get(gateway.base, `${UI}/events`, { "x-admin-key": `guess-${i}-0123456789abc` })).status, 401);
      assert.equal(
        (await get(gateway.base, `${UI}/events`, { "x-admin-key": "guess-3-0123456789abc" })).status,
        429,
        "the fourth wrong key",
      );
      const limited = await get(gateway.base, `${UI}/graph.svg`, { "x-admin-key": ADMIN_KEY });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    });

    it("answers 405 to other methods and 404 to unknown paths, and leaves paths that only look alike to the routes", async () => {
      const post = await get(gateway.base, UI, {}, "POST");
      assert.equal(post.status, 405);
      assert.equal(post.headers.get("allow"), "GET, HEAD");
      const unknown = await get(gateway.base, `${UI}/nope`);
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as any).error.code, "NOT_FOUND");
      assert.equal((await get(gateway.base, `${UI}?from=bookmark`)).status, 200);
      const head = await get(gateway.base, UI, {}, "HEAD");
      assert.equal(head.status, 200);
      assert.equal((await head.text()).length, 0);
      const alike = await get(gateway.base, "/_cloudloom/uix");
      assert.equal(((await alike.json()) as any).error.code, "NOT_FOUND", "the pipeline's 404, not the dashboard's");
    });

    it("bounds the streams open at once, and ends them all when the gateway closes", async () => {
      const streams = await Promise.all(Array.from({ length: 16 }, () => openStream(gateway.base, { "x-admin-key": ADMIN_KEY })));
      assert.ok(streams.every((s) => s.statusCode === 200));
      const refused = await get(gateway.base, `${UI}/events`, { "x-admin-key": ADMIN_KEY });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get("retry-after"), "5");
      const ended = streams.map((s) => new Promise<void>((resolve) => s.on("close", resolve).resume()));
      await gateway.close();
      await Promise.all(ended);
    });

    it("counts an unreachable region's ejection and the failover to central, and shows the backend out of service", async () => {
      await edge.kill();
      const res = await post(gateway.base, "/open", {}, undefined, { "x-cloudloom-locality": "de" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-cloudloom-region"), "central");
      const snapshot = (await gateway.gateway.dashboard.sampler.sample())!;
      assert.deepEqual(snapshot.functions.open.regions.edge, { healthy: false, breaker: "closed", ejections: 1, failovers: 1 });
      assert.deepEqual(snapshot.functions.open.regions.central, { healthy: true, breaker: "closed", ejections: 0, failovers: 0 });
      assert.equal(snapshot.routes["POST /open"].failovers, 1);
      assert.equal(snapshot.regions.edge.failovers, 1);
      assert.ok(snapshot.regions.edge.up < snapshot.regions.edge.total);
      const metrics = await (await scrape(`${gateway.base}/metrics`)).text();
      assert.match(metrics, /cloudloom_failovers_total\{route="POST \/open",region="edge"\} 1/);
      assert.match(metrics, /cloudloom_backend_ejections_total\{backend="function:open",region="edge"\} 1/);
      assert.match(metrics, /cloudloom_backend_healthy\{backend="function:open",region="edge"\} 0/);
      assert.match(metrics, /cloudloom_breaker_state\{route="POST \/open",region="central"\} 0/);
    });

    it("skips snapshots for a reader that stops reading, instead of buffering them without bound", async () => {
      const port = new URL(gateway.base).port;
      const socket = connect(Number(port), "127.0.0.1");
      socket.write(`GET ${UI}/events HTTP/1.1\r\nhost: x\r\nx-admin-key: ${ADMIN_KEY}\r\n\r\n`);
      await new Promise((resolve) => socket.once("data", resolve));
      socket.pause();
      // ~3.7 KB a snapshot: some 20 MB in all, more than the kernel's socket buffers hold for a reader that does not read.
      const produced = 6_000;
      for (let i = 0; i < produced; i++) await gateway.gateway.dashboard.sampler.sample();
      let received = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (received += chunk));
      const ended = new Promise((resolve) => socket.on("close", resolve));
      socket.resume();
      await gateway.close();
      await ended;
      const delivered = received.match(/event: snapshot\n/g)?.length ?? 0;
      assert.ok(delivered > 0 && delivered < produced / 2, `${delivered} of ${produced} snapshots delivered`);
    });

    it("refuses everyone when the gateway has no admin key", async () => {
      const bare = await startGateway(gatewaySpec(), central, edge, {});
      try {
        assert.equal((await get(bare.base, `${UI}/graph.svg`, { "x-admin-key": ADMIN_KEY })).status, 401);
      } finally {
        await bare.close();
      }
    });
  });

  describe("on the local target (open to this machine only)", () => {
    let composed: ComposedGateway;
    let base: string;

    before(async () => {
      composed = composeGateway({
        spec: gatewaySpec(),
        settings: parseSettings({ adminKey: ADMIN_KEY }),
        source: { kind: "local", call: async () => ({ status: 200, headers: {}, body: Buffer.from("{}") }) },
        logger: pino({ level: "silent" }),
      });
      base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
    });
    after(() => composed.close());

    it("sends the graph to a loopback client without a key", async () => {
      assert.equal((await get(base, `${UI}/graph.svg`)).status, 200);
    });

    it("wants the admin key for a request a proxy relays, even one claiming to come from 127.0.0.1", async () => {
      for (const header of ["x-forwarded-for", "forwarded", "x-real-ip"]) {
        assert.equal((await get(base, `${UI}/graph.svg`, { [header]: "127.0.0.1" })).status, 401, header);
        assert.equal((await get(base, `${UI}/graph.svg`, { [header]: "127.0.0.1", "x-admin-key": ADMIN_KEY })).status, 200, header);
      }
    });
  });
});
