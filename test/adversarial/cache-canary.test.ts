import assert from "node:assert/strict";
import { App, type SpecV1 } from "../../sdk";
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { endpointsFor, gatewayRig, post } from "../support/gateway-app";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN, scrape } from "../support/metrics-token";

/** A model split 50/50 between versions 1 and 2, on an open route with a cache. */
function spec(): SpecV1 {
  const app = new App("canary-cache");
  const central = app.region("central", { kind: "central", placement: {} });
  const signature = {
    inputs: { x: { type: "float32" as const, shape: [-1, 1] } },
    outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
  };
  const artifact = { path: "m.onnx", sha256: "a".repeat(64) };
  const v1 = app.model("m", { version: "1", artifact, signature, regions: [central] });
  const v2 = app.model("m", { version: "2", artifact, signature, regions: [central] });
  app.route("POST /predict", {
    target: {
      strategy: "canary",
      versions: [
        { model: v1, weight: 50 },
        { model: v2, weight: 50 },
      ],
    },
    auth: "none",
    cache: { ttl: "30 seconds" },
  });
  return app.toSpec({ root: undefined });
}

describe("a canary route with a cache (issue hole 5)", () => {
  const rig = gatewayRig({ spec });

  it("reports, on every hit, the version that produced the body it serves", async () => {
    const served: Array<{ version: string | null; cache: string | null; path: string }> = [];
    for (let i = 0; i < 40; i++) {
      const res = await post(rig.base, "/predict", { x: [[1]] });
      assert.equal(res.status, 200);
      // The stub echoes the path it was called on: /_cloudloom/models/m%40<version>.
      const { path } = (await res.json()) as { path: string };
      served.push({ version: res.headers.get("x-cloudloom-version"), cache: res.headers.get("x-cache"), path });
    }
    for (const { version, path } of served) assert.equal(path, `/_cloudloom/models/${encodeURIComponent(`m@${version}`)}`);
    // Both versions were picked (2^-39 odds otherwise), each filled its own entry once, and the rest were hits.
    assert.deepEqual(new Set(served.map((s) => s.version)), new Set(["1", "2"]));
    assert.equal(rig.central.received.length, 2);
    assert.equal(served.filter((s) => s.cache === "HIT").length, 38);
    const metrics = await (await scrape(`${rig.base}/metrics`)).text();
    const counted = (version: string) =>
      Number(
        new RegExp(`http_server_request_duration_seconds_count\\{[^}]*http_route="/predict"[^}]*version="${version}"[^}]*\\} (\\d+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    assert.equal(counted("1") + counted("2"), 40);
    assert.equal(counted("1"), served.filter((s) => s.version === "1").length);
  });

  it("on a route whose backend splits the versions, reports on a hit the version the stored response named", async () => {
    const alias = await new StubUpstream("fc-alias").start();
    const split = spec();
    const composed = composeGateway({
      spec: split,
      settings: parseSettings({ health: { probeIntervalMs: 60_000 }, metricsToken: METRICS_TOKEN }),
      source: {
        kind: "remote",
        endpoints: { ...endpointsFor(split, rig.central, rig.edge), canaries: { "POST /predict": { central: alias.url } } },
      },
      logger: pino({ level: "silent" }),
    });
    try {
      const url = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
      const answer = (version: string) =>
        (alias.behaviour = { status: 200, headers: { "x-cloudloom-version": version }, delayMs: 0, body: () => ({ version }) });
      answer("2");
      const miss = await post(url, "/predict", { x: [[1]] });
      answer("1");
      const hit = await post(url, "/predict", { x: [[1]] });
      assert.deepEqual([hit.headers.get("x-cache"), hit.headers.get("x-cloudloom-version")], ["HIT", "2"]);
      assert.deepEqual([await miss.json(), await hit.json()], [{ version: "2" }, { version: "2" }]);
      const metrics = await (await scrape(`${url}/metrics`)).text();
      assert.match(metrics, /http_server_request_duration_seconds_count\{[^}]*http_route="\/predict"[^}]*version="2"[^}]*\} 2/);
      assert.equal(alias.received.length, 1);
    } finally {
      await composed.close();
      await alias.kill();
    }
  });
});
