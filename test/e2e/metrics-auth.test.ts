/**
 * The gateway's metrics (`/metrics`, and `/metrics/demand` that KEDA reads)
 * behind the metrics token, over real sockets on 127.0.0.1: without the token,
 * with a wrong one (429 once over the limit), with spoofed or malformed
 * Authorization headers, with the token and with the admin key; the app's own
 * routes untouched; and open, as before, on the local target with no token.
 */
import assert from "node:assert/strict";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { DEMAND_PATH } from "../../runtime/contract";
import { App, type SpecV1 } from "../../sdk";
import { rawExchange } from "../support/raw-http";
import { StubUpstream } from "../support/upstream";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const ADMIN_KEY = "admin-key-0123456789abcdef";
const PATHS = ["/metrics", DEMAND_PATH];

/** One open route to function "open". */
function spec(): SpecV1 {
  const app = new App("metrics-auth");
  const central = app.region("central", { kind: "central", placement: {} });
  app.route("POST /open", { target: app.function("open", { handler: "open.ts", regions: [central] }), auth: "none" });
  return app.toSpec({ root: undefined });
}

/** A gateway in front of `upstream` (remote endpoints, as every deployed gateway) with `settings`. */
async function remoteGateway(upstream: StubUpstream, settings: object): Promise<{ composed: ComposedGateway; base: string; port: number }> {
  const composed = composeGateway({
    spec: spec(),
    settings: parseSettings({ health: { probeIntervalMs: 60_000 }, logSampleRate: 0, ...settings }),
    source: { kind: "remote", endpoints: { functions: { open: { central: upstream.url } }, models: {} } },
    logger: pino({ level: "silent" }),
    env: {},
  });
  const { port } = await composed.gateway.listen(0);
  return { composed, base: `http://127.0.0.1:${port}`, port };
}

/** Asserts a typed 401 with the Bearer challenge. */
async function unauthorized(response: Response, what: string): Promise<void> {
  assert.equal(response.status, 401, what);
  assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer /, what);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/, what);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, "UNAUTHORIZED", what);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("gateway metrics behind the metrics token (real sockets)", function () {
  this.timeout(60_000);
  let upstream: StubUpstream;

  before(async () => {
    upstream = await new StubUpstream("open").start();
  });
  after(() => upstream.kill());

  describe("with a metrics token and an admin key, in front of remote endpoints", () => {
    let gateway: Awaited<ReturnType<typeof remoteGateway>>;

    before(async () => {
      // A generous limit: these tests send many wrong tokens from one address; the limit has its own test.
      gateway = await remoteGateway(upstream, {
        metricsToken: METRICS_TOKEN,
        adminKey: ADMIN_KEY,
        limits: { authFailures: { perAddress: 1_000, windowSeconds: 60 } },
      });
    });
    after(() => gateway.composed.close());

    it("refuses both without a token, with a typed 401 and a Bearer challenge", async () => {
      for (const path of PATHS) await unauthorized(await fetch(`${gateway.base}${path}`), path);
    });

    it("refuses a wrong token, and one of another secret's header", async () => {
      for (const path of PATHS) {
        await unauthorized(await fetch(`${gateway.base}${path}`, { headers: bearer("wrong-token-0123456789abcdef") }), path);
        await unauthorized(await fetch(`${gateway.base}${path}`, { headers: { "x-api-key": METRICS_TOKEN } }), `${path} x-api-key`);
      }
    });

    it("serves both to the metrics token as a Bearer token", async () => {
      const metrics = await fetch(`${gateway.base}/metrics`, { headers: bearer(METRICS_TOKEN) });
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /# TYPE http_server_request_duration_seconds histogram/);
      const demand = await fetch(`${gateway.base}${DEMAND_PATH}`, { headers: bearer(METRICS_TOKEN) });
      assert.equal(demand.status, 200);
      assert.deepEqual(((await demand.json()) as { targets: unknown[] }).targets, []);
    });

    it("serves both to the admin key, as a Bearer token or in x-admin-key", async () => {
      for (const path of PATHS) {
        assert.equal((await fetch(`${gateway.base}${path}`, { headers: bearer(ADMIN_KEY) })).status, 200, path);
        assert.equal((await fetch(`${gateway.base}${path}`, { headers: { "x-admin-key": ADMIN_KEY } })).status, 200, path);
      }
    });

    it("never lets a spoofed or malformed Authorization header through, and keeps serving", async () => {
      const spoofs: Array<[string, Record<string, string>]> = [
        ["lower-case scheme", { authorization: `bearer ${METRICS_TOKEN}` }],
        ["no scheme", { authorization: METRICS_TOKEN }],
        ["Basic scheme", { authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString("base64")}` }],
        ["empty token", { authorization: "Bearer " }],
        ["spaces only", { authorization: "Bearer      " }],
        ["a prefix of the token", { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` }],
        ["the token and more", { authorization: `Bearer ${METRICS_TOKEN}x` }],
        ["the token twice", { authorization: `Bearer ${METRICS_TOKEN} ${METRICS_TOKEN}` }],
        ["the admin key's header holding garbage", { "x-admin-key": "Bearer " + ADMIN_KEY }],
      ];
      for (const path of PATHS)
        for (const [what, headers] of spoofs) await unauthorized(await fetch(`${gateway.base}${path}`, { headers }), `${path}: ${what}`);
      // Extra spaces around the right token are only whitespace: the token itself still decides.
      assert.equal((await fetch(`${gateway.base}/metrics`, { headers: { authorization: `Bearer   ${METRICS_TOKEN}  ` } })).status, 200);
    });

    it("takes only the first of two Authorization headers, so a wrong first one is refused", async () => {
      const raw = (first: string, second: string) =>
        `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${first}\r\nAuthorization: Bearer ${second}\r\nConnection: close\r\n\r\n`;
      const { responses } = await rawExchange(gateway.port, raw("wrong-token-0123456789abcdef", METRICS_TOKEN));
      assert.equal(responses[0].status, 401);
      assert.match(responses[0].headers["www-authenticate"], /^Bearer /);
    });

    it("refuses a token with a NUL byte or of 100 KB without crashing, and serves the next scrape", async () => {
      const nul = await rawExchange(
        gateway.port,
        Buffer.concat([
          Buffer.from(`GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${METRICS_TOKEN}`),
          Buffer.from([0]),
          Buffer.from("\r\nConnection: close\r\n\r\n"),
        ]),
      );
      assert.ok(nul.responses.length === 0 || nul.responses[0].status === 400, `NUL: ${nul.responses[0]?.status}`);
      const long = await rawExchange(
        gateway.port,
        `GET ${DEMAND_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${"a".repeat(100_000)}\r\nConnection: close\r\n\r\n`,
      );
      assert.ok(long.responses.length === 0 || long.responses[0].status === 431, `100 KB: ${long.responses[0]?.status}`);
      assert.equal((await fetch(`${gateway.base}/metrics`, { headers: bearer(METRICS_TOKEN) })).status, 200);
    });

    it("leaves the app's own routes and health alone", async () => {
      const open = await fetch(`${gateway.base}/open`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      assert.equal(open.status, 200);
      const withWrong = await fetch(`${gateway.base}/open`, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json", ...bearer("wrong-token-0123456789abcdef") },
      });
      assert.equal(withWrong.status, 200, "an open route ignores a token meant for nothing");
      assert.equal((await fetch(`${gateway.base}/healthz`)).status, 200);
      assert.equal((await fetch(`${gateway.base}/readyz`)).status, 200);
    });
  });

  it("counts wrong tokens per address (429 with Retry-After past the limit), yet lets the right metrics token through, and not the admin key", async () => {
    const gateway = await remoteGateway(upstream, {
      metricsToken: METRICS_TOKEN,
      adminKey: ADMIN_KEY,
      limits: { authFailures: { perAddress: 3, windowSeconds: 60 } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await fetch(`${gateway.base}${DEMAND_PATH}`, { headers: bearer(`wrong-token-${i}-0123456789abcdef`) })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      // Whoever shares KEDA's address (every client, behind a forwarder the gateway does not trust) cannot shut it out.
      assert.equal((await fetch(`${gateway.base}${DEMAND_PATH}`, { headers: bearer(METRICS_TOKEN) })).status, 200);
      assert.equal((await fetch(`${gateway.base}/metrics`, { headers: bearer(METRICS_TOKEN) })).status, 200);
      // The admin key, which also opens the admin endpoints, stays behind the limit: no unlimited guesses at it here.
      const admin = await fetch(`${gateway.base}/metrics`, { headers: bearer(ADMIN_KEY) });
      assert.equal(admin.status, 429);
      assert.ok(Number(admin.headers.get("retry-after")) >= 1);
      assert.equal(((await admin.json()) as { error: { code: string } }).error.code, "RATE_LIMITED");
      const wrong = await fetch(`${gateway.base}/metrics`, { headers: bearer("wrong-token-5-0123456789abcdef") });
      assert.equal(wrong.status, 429, "a wrong token still gets 429 past the limit");
    } finally {
      await gateway.composed.close();
    }
  });

  it("takes the token from CLOUDLOOM_METRICS_TOKEN, as a deployed gateway gets it from its secret", async () => {
    const composed = composeGateway({
      spec: spec(),
      settings: parseSettings({ health: { probeIntervalMs: 60_000 }, logSampleRate: 0 }),
      source: { kind: "remote", endpoints: { functions: { open: { central: upstream.url } }, models: {} } },
      logger: pino({ level: "silent" }),
      env: { CLOUDLOOM_METRICS_TOKEN: ` ${METRICS_TOKEN} ` },
    });
    try {
      const base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
      await unauthorized(await fetch(`${base}/metrics`), "no token");
      assert.equal((await fetch(`${base}/metrics`, { headers: bearer(METRICS_TOKEN) })).status, 200);
    } finally {
      await composed.close();
    }
  });

  it("refuses everyone in front of remote endpoints when neither a metrics token nor an admin key is set", async () => {
    const gateway = await remoteGateway(upstream, {});
    try {
      for (const path of PATHS) {
        await unauthorized(await fetch(`${gateway.base}${path}`), path);
        await unauthorized(await fetch(`${gateway.base}${path}`, { headers: bearer("any-token-0123456789abcdef") }), path);
      }
    } finally {
      await gateway.composed.close();
    }
  });

  describe("on the local target", () => {
    const local = (settings: object) =>
      composeGateway({
        spec: spec(),
        settings: parseSettings({ health: { probeIntervalMs: 60_000 }, logSampleRate: 0, ...settings }),
        source: { kind: "local", call: async () => ({ status: 200, headers: {}, body: Buffer.from("{}") }) },
        logger: pino({ level: "silent" }),
        env: {},
      });

    it("leaves both open with no token configured, as before", async () => {
      const composed = local({});
      try {
        const base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
        for (const path of PATHS) assert.equal((await fetch(`${base}${path}`)).status, 200, path);
      } finally {
        await composed.close();
      }
    });

    it("requires the token once one is configured", async () => {
      const composed = local({ metricsToken: METRICS_TOKEN });
      try {
        const base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
        for (const path of PATHS) {
          await unauthorized(await fetch(`${base}${path}`), path);
          assert.equal((await fetch(`${base}${path}`, { headers: bearer(METRICS_TOKEN) })).status, 200, path);
        }
      } finally {
        await composed.close();
      }
    });
  });
});
