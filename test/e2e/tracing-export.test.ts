import assert from "node:assert/strict";
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { lambdaHandler, type FunctionUrlEvent } from "../../runtime/serverless/lambda";
import { endpointsFor, gatewaySpec, post } from "../support/gateway-app";
import { until } from "../support/until";
import { exported } from "../support/tracing";
import { StubUpstream } from "../support/upstream";

describe("tracing export over OTLP/HTTP (a stub collector on a real socket)", () => {
  let collector: StubUpstream;
  let central: StubUpstream;

  beforeEach(async () => {
    collector = await new StubUpstream("collector").start();
    central = await new StubUpstream("central").start();
  });
  afterEach(async () => {
    await collector.kill();
    await central.kill();
  });

  it("exports the gateway's spans to the settings' endpoint, named by the service and the app, once it closes", async () => {
    const spec = gatewaySpec();
    const { gateway, close } = composeGateway({
      spec,
      settings: parseSettings({ tracing: { endpoint: `${collector.url}/v1/traces` } }),
      source: { kind: "remote", endpoints: endpointsFor(spec, central, central) },
      logger: pino({ level: "silent" }),
      env: {},
    });
    const base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
    assert.equal((await post(base, "/open")).status, 200);
    await close();
    const spans = exported(collector);
    const root = spans.find((span) => span.name === "POST /open");
    assert.ok(root, `spans: ${spans.map((s) => s.name)}`);
    assert.deepEqual([root.resource["service.name"], root.resource["cloudloom.app"]], ["cloudloom-gateway", "gw"]);
    const attempt = spans.find((span) => span.name === "gateway.backend.attempt")!;
    assert.equal(attempt.traceId, root.traceId);
    assert.equal(String(central.received[0].headers.traceparent).split("-")[2], attempt.spanId);
  });

  it("reads the endpoint, sampler and service name from OTEL_* when the settings name none", async () => {
    const spec = gatewaySpec();
    const { gateway, close } = composeGateway({
      spec,
      settings: parseSettings({}),
      source: { kind: "remote", endpoints: endpointsFor(spec, central, central) },
      logger: pino({ level: "silent" }),
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/`,
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "1",
        OTEL_SERVICE_NAME: "edge-gateway",
      },
    });
    const base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
    await post(base, "/open");
    await close();
    assert.equal(exported(collector).find((span) => span.name === "POST /open")?.resource["service.name"], "edge-gateway");
  });

  it("keeps serving when the collector is down: requests answer, closing ends, and the failure is reported once", async () => {
    await collector.kill();
    const spec = gatewaySpec();
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
    const { gateway, close } = composeGateway({
      spec,
      settings: parseSettings({ tracing: { endpoint: collector.url + "/v1/traces" } }),
      source: { kind: "remote", endpoints: endpointsFor(spec, central, central) },
      logger,
      // The exporter gives up on the dead collector after this long: closing waits for no more.
      env: { OTEL_EXPORTER_OTLP_TIMEOUT: "300" },
    });
    const base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
    for (let i = 0; i < 5; i++) assert.equal((await post(base, "/open")).status, 200);
    await close();
    assert.equal(warnings.filter((w) => w.startsWith("spans could not be exported")).length, 1, warnings.join("\n"));
  });

  it("exports a serverless function's span under the gateway's traceparent before the invocation returns", async () => {
    const traceId = "5b8efff798038103d269b633813fc60c";
    const parent = "eee19b7ec3c1b174";
    const serve = lambdaHandler(
      async (_request, ctx) => {
        ctx.span.setAttribute("fixture.seen", true);
        if (ctx.requestId === "fail") throw new Error("boom");
        return { ok: true };
      },
      { region: "central", models: {}, env: [] },
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`, AWS_LAMBDA_FUNCTION_NAME: "app-classify-central" },
    );
    const event = (requestId: string): FunctionUrlEvent => ({
      rawPath: "/",
      headers: { "content-type": "application/json", traceparent: `00-${traceId}-${parent}-01`, "x-request-id": requestId },
      body: "{}",
      requestContext: { requestId, http: { method: "POST" } },
    });
    assert.equal((await serve(event("ok"))).statusCode, 200);
    // Exported before the invocation returned: nothing to wait for.
    const [span] = exported(collector);
    assert.deepEqual(
      [span.name, span.traceId, span.parentSpanId, span.attributes["fixture.seen"], span.attributes["cloudloom.cold"]],
      ["runtime.function", traceId, parent, true, true],
    );
    assert.equal(span.resource["service.name"], "cloudloom-app-classify-central");
    const logged = console.error;
    console.error = () => undefined; // the adapter's log line of the handler's exception
    try {
      assert.equal((await serve(event("fail"))).statusCode, 500);
    } finally {
      console.error = logged;
    }
    await until(() => exported(collector).length === 2);
    const failed = exported(collector)[1];
    assert.deepEqual([failed.status?.code, failed.attributes["cloudloom.cold"]], [2, false], "an error status, on a warm instance");
  });
});
