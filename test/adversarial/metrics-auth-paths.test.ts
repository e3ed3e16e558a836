/**
 * A reviewer's attacks on the metrics token (real sockets on 127.0.0.1): the
 * request targets an attacker would try to reach `/metrics` and
 * `/metrics/demand` by without the token (case, doubled or dot segments,
 * encoded slashes, queries, absolute-form, HEAD and OPTIONS), and the local
 * target reached through a proxy, which the dashboard refuses.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { DASHBOARD_PATHS } from "../../gateway/dashboard/page";
import { App, type SpecV1 } from "../../sdk";
import { rawExchange } from "../support/raw-http";
import { StubUpstream } from "../support/upstream";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";

function spec(): SpecV1 {
  const app = new App("metrics-paths");
  const central = app.region("central", { kind: "central", placement: {} });
  app.route("POST /open", { target: app.function("open", { handler: "open.ts", regions: [central] }), auth: "none" });
  return app.toSpec({ root: undefined });
}

/** Everything the gateway sends for `raw` until it closes the connection (a HEAD's answer has no body to frame). */
function rawAll(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.write(raw));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

/** True when `body` is the metrics' exposition or the demand's JSON. */
const leaks = (body: string): boolean => /# (TYPE|HELP) /.test(body) || /"targets"\s*:/.test(body) || /"instances"\s*:/.test(body);

describe("metrics token: request targets that must not reach the metrics without it (real sockets)", function () {
  this.timeout(60_000);
  let upstream: StubUpstream;
  let composed: ComposedGateway;
  let port: number;

  before(async () => {
    upstream = await new StubUpstream("open").start();
    composed = composeGateway({
      spec: spec(),
      settings: parseSettings({
        metricsToken: METRICS_TOKEN,
        health: { probeIntervalMs: 60_000 },
        logSampleRate: 0,
        limits: { authFailures: { perAddress: 10_000, windowSeconds: 60 } },
      }),
      source: { kind: "remote", endpoints: { functions: { open: { central: upstream.url } }, models: {} } },
      logger: pino({ level: "silent" }),
      env: {},
    });
    port = (await composed.gateway.listen(0)).port;
  });
  after(async () => {
    await composed.close();
    await upstream.kill();
  });

  const targets = [
    "/metrics",
    "/metrics/",
    "/metrics?x=1",
    "/metrics/?",
    "/metrics#x",
    "/METRICS",
    "/Metrics",
    "//metrics",
    "/./metrics",
    "/open/../metrics",
    "/metrics/../metrics",
    "/metrics/.",
    "/%6detrics",
    "/metrics%2fdemand",
    "/metrics%2Fdemand",
    "/metrics/demand",
    "/metrics/demand/",
    "/metrics/DEMAND",
    "/metrics//demand",
    "/metrics/demand?kind=model&entry=x&region=central",
    "/metrics;x",
    "/metrics%00",
    "/metrics%20",
    "http://127.0.0.1/metrics",
    "http://x/metrics/demand",
    "*",
  ];

  for (const method of ["GET", "HEAD", "OPTIONS", "POST"])
    it(`${method}: none of ${targets.length} request targets shows the metrics or the demand without the token`, async () => {
      for (const target of targets) {
        const answer = await rawAll(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        const status = Number(answer.split(" ")[1]);
        assert.ok(!leaks(answer), `${method} ${target} answered ${status} with the metrics: ${answer.slice(0, 200)}`);
        assert.ok(answer === "" || status !== 200, `${method} ${target} answered 200: ${answer.slice(0, 200)}`);
      }
    });

  it("HEAD /metrics without the token is a 401, not an empty 200", async () => {
    const answer = await rawAll(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 401 /);
  });

  it("an x-admin-key duplicated with the metrics token in it is refused (Node joins repeated custom headers)", async () => {
    const { responses } = await rawExchange(
      port,
      `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Admin-Key: ${METRICS_TOKEN}\r\nX-Admin-Key: ${METRICS_TOKEN}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(responses[0]?.status, 401);
  });
});

describe("metrics on the local target with no token, reached through a proxy (real sockets)", function () {
  this.timeout(60_000);

  it("are refused to a request a proxy forwarded, as the dashboard is, and open to this machine", async () => {
    const composed = composeGateway({
      spec: spec(),
      settings: parseSettings({ health: { probeIntervalMs: 60_000 }, logSampleRate: 0 }),
      source: { kind: "local", call: async () => ({ status: 200, headers: {}, body: Buffer.from("{}") }) },
      logger: pino({ level: "silent" }),
      env: {},
    });
    try {
      const base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
      const forwarded = { "x-forwarded-for": "203.0.113.7" };
      assert.equal(
        (await fetch(`${base}${DASHBOARD_PATHS.graph}`, { headers: forwarded })).status,
        401,
        "the dashboard's graph refuses it",
      );
      for (const path of ["/metrics", "/metrics/demand"]) {
        const response = await fetch(`${base}${path}`, { headers: forwarded });
        assert.equal(response.status, 401, `${path} through a proxy: ${response.status}`);
        assert.equal((await fetch(`${base}${path}`)).status, 200, `${path} from this machine`);
      }
    } finally {
      await composed.close();
    }
  });
});
