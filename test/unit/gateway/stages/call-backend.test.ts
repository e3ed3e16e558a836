import assert from "node:assert/strict";
import type { BackendRequest, BufferedResponse } from "../../../../gateway/backends/backend";
import { parseSettings } from "../../../../gateway/config";
import { callPolicy } from "../../../../gateway/invoke";
import { GatewayMetrics } from "../../../../gateway/metrics";
import { callBackend } from "../../../../gateway/stages/call-backend";
import { metricsRegistry } from "../../../../runtime/metrics";
import { ServingError } from "../../../../runtime/contract";
import { exchange, request, route, target } from "./exchange-fixture";

describe("backend call stage", () => {
  const metrics = new GatewayMetrics(metricsRegistry());
  const stage = callBackend(callPolicy(parseSettings({}), metrics));

  function over(call: (request: BackendRequest) => Promise<BufferedResponse>) {
    const fn = target(call);
    const x = exchange(
      request({ url: "/f?region=de", headers: { authorization: "Bearer k" } }),
      route("POST /f", {}, new Map([["-", fn]])),
    );
    x.target = fn;
    x.record.id = "req-12345678";
    x.record.tenant = "t-1";
    x.body = Buffer.from("{}");
    return x;
  }

  it("answers with the backend's response, from its region, and hands it the request's id, tenant, body and query", async () => {
    let seen: BackendRequest | undefined;
    const x = over(
      async (req) => ((seen = req), { status: 201, headers: { "x-upstream": "yes", connection: "close" }, body: Buffer.from("ok") }),
    );
    await stage.run!(x);
    assert.deepEqual([x.answered, x.res.statusCode, x.record.region], [true, 201, "central"]);
    assert.equal(x.res.getHeader("x-upstream"), "yes");
    assert.equal(x.res.getHeader("connection"), undefined, "hop-by-hop headers stay upstream");
    assert.equal(x.res.getHeader("x-cloudloom-region"), "central");
    assert.deepEqual([seen?.requestId, seen?.tenant, seen?.body.toString(), seen?.query], ["req-12345678", "t-1", "{}", { region: "de" }]);
  });

  it("passes a client's abort through as CLIENT_CLOSED, never counted against the backend", async () => {
    const x = over(async () => {
      throw new ServingError("CLIENT_CLOSED", "the client closed the connection before its response");
    });
    await assert.rejects(
      async () => stage.run!(x),
      (e: ServingError) => e.code === "CLIENT_CLOSED" && e.status === 499,
    );
    assert.equal(x.target.backends.get("central")!.health.healthy, true);
    assert.doesNotMatch(await metrics.registry.getSingleMetricAsString("cloudloom_upstream_errors_total"), /kind="error"\} 1/);
  });

  it("turns a backend fault into GATEWAY_TIMEOUT and counts it per route and region", async () => {
    const x = over(async () => {
      throw new Error("boom");
    });
    await assert.rejects(
      async () => stage.run!(x),
      (e: ServingError) => e.code === "GATEWAY_TIMEOUT",
    );
    assert.match(
      await metrics.registry.getSingleMetricAsString("cloudloom_upstream_errors_total"),
      /route="POST \/f",region="central",kind="error"\} 1/,
    );
  });
});
