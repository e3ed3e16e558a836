import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { METRIC_NAMES } from "../../runtime/contract";
import { App } from "../../sdk";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN, scrape } from "../support/metrics-token";

/** Methods Node's parser accepts, registered in HTTP or not (WebDAV, UPnP, cache purges). */
const METHODS = [
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "HEAD",
  "PROPFIND",
  "MKCOL",
  "LOCK",
  "SEARCH",
  "PURGE",
  "REPORT",
  "M-SEARCH",
];

describe("the request histogram under a flood of made-up paths and methods (real sockets)", function () {
  this.timeout(120_000);
  let upstream: StubUpstream;
  let gateway: ComposedGateway;
  let base: string;

  before(async () => {
    upstream = await new StubUpstream("central").start();
    const app = new App("labels");
    const central = app.region("central", { kind: "central", placement: {} });
    app.route("POST /open", { target: app.function("open", { handler: "open.ts", regions: [central] }), auth: "none" });
    gateway = composeGateway({
      spec: app.toSpec({ root: undefined }),
      settings: parseSettings({ health: { probeIntervalMs: 60_000 }, metricsToken: METRICS_TOKEN }),
      source: { kind: "remote", endpoints: { functions: { open: { central: upstream.url } }, models: {} } },
      logger: pino({ level: "silent" }),
    });
    const { port } = await gateway.gateway.listen(0);
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await gateway.close();
    await upstream.kill();
  });

  it("keeps its series bounded by the routes, whatever paths, queries and methods clients send, and never echoes them", async () => {
    const paths: string[] = [];
    for (let i = 0; i < 300; i++) {
      const path = `/${randomBytes(6).toString("hex")}/${i}`;
      paths.push(path);
      const method = METHODS[i % METHODS.length];
      const res = await fetch(`${base}${i % 3 === 0 ? `/open?${path.slice(1)}=1` : path}`, {
        method: i % 3 === 0 ? "POST" : method,
        body: i % 3 === 0 || !["GET", "HEAD"].includes(method) ? "{}" : undefined,
      });
      await res.arrayBuffer();
    }
    // Each request is recorded once its response has finished: scrape until all 300 are.
    const histogram = async () => {
      const text = await (await scrape(`${base}/metrics`)).text();
      const series = text.split("\n").filter((line) => line.startsWith(`${METRIC_NAMES.httpServerDuration}_count{`));
      return { text, series, counted: series.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0) };
    };
    let scraped = await histogram();
    while (scraped.counted < 300) scraped = await histogram();
    const { text, series, counted } = scraped;
    assert.equal(counted, 300, "every request counted once, and the /metrics scrapes not at all");
    const routes = new Set(series.map((line) => /http_route="([^"]*)"/.exec(line)![1]));
    assert.deepEqual([...routes].sort(), ["", "/open"], "a request that matched no route has no route label");
    const methods = new Set(series.map((line) => /http_request_method="([^"]*)"/.exec(line)![1]));
    for (const method of methods)
      assert.ok(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "_OTHER"].includes(method), `method label ${method}`);
    assert.ok(series.length <= 2 * 8 + 2, `${series.length} series for 300 requests:\n${series.join("\n")}`);
    for (const path of paths) assert.ok(!text.includes(path.split("/")[1]), `the metrics echo ${path}`);
  });
});
