import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadScoped, serveCommand } from "../../cli/commands/serve";
import { UsageError } from "../../cli/io";
import { composeGateway } from "../../cli/compose-gateway";
import type { Gateway } from "../../gateway/gateway";
import { parseSettings } from "../../gateway/config";
import { PodServer } from "../../runtime/pod/pod-server";
import app from "../fixtures/tracing/app";
import { childrenOf, idOf, memoryTracing, only, type MemoryTracing } from "../support/tracing";
import { until } from "../support/until";

const TRACE_ID = "a3ce929d0e0e47364bf92f3577b34da6";
const CLIENT_SPAN = "0ba902b700f067aa";

describe("one trace across processes: gateway → function pod → model pod (real sockets, each with its own tracer)", () => {
  const logger = pino({ level: "silent" });
  const servers: PodServer[] = [];
  let gateway: Gateway;
  let closeGateway: () => Promise<void>;
  let base: string;
  const gatewayTracing: MemoryTracing = memoryTracing();
  // Behind the gateway, processes follow its sampling decision.
  const functionTracing: MemoryTracing = memoryTracing(1, true);
  const modelTracing: MemoryTracing = memoryTracing(1, true);

  before(async () => {
    const spec = join(mkdtempSync(join(tmpdir(), "cloudloom-trace-")), "spec.json");
    writeFileSync(spec, JSON.stringify(app.toSpec()));
    const model = loadScoped({ spec, root: app.root, only: "model:intent@1", region: "central", modelUrls: [] });
    if ("problems" in model) throw new Error(model.problems);
    servers.push(new PodServer({ ...model, logger, tracer: modelTracing.tracer }));
    const modelUrl = `http://127.0.0.1:${(await servers[0].listen(0)).port}`;
    const fn = loadScoped({ spec, root: app.root, only: "function:classify", region: "central", modelUrls: [`intent@1=${modelUrl}`] });
    if ("problems" in fn) throw new Error(fn.problems);
    servers.push(new PodServer({ ...fn, logger, tracer: functionTracing.tracer }));
    const functionUrl = `http://127.0.0.1:${(await servers[1].listen(0)).port}`;
    const central = { central: functionUrl };
    ({ gateway, close: closeGateway } = composeGateway({
      spec: app.toSpec(),
      settings: parseSettings({}),
      source: {
        kind: "remote",
        endpoints: { functions: { classify: central, "active-span": central }, models: { "intent@1": central, "fours@1": central } },
      },
      logger,
      tracer: gatewayTracing.tracer,
      env: {},
    }));
    base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
  });
  after(async () => {
    await closeGateway();
    await Promise.all(servers.map((server) => server.close()));
  });

  it("continues the client's trace in the function pod and, through its model call, in the model pod", async () => {
    const res = await fetch(`${base}/classify`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` },
      body: JSON.stringify({ message: "the android app shows error 500 after the update" }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { intent: string }).intent, "technical");
    await until(() => gatewayTracing.spans().some((span) => span.name === "POST /classify"));
    const attempt = only(gatewayTracing.spans(), "gateway.backend.attempt");
    const fn = only(functionTracing.spans(), "runtime.function");
    const model = only(modelTracing.spans(), "runtime.model");
    for (const span of [attempt, fn, model]) assert.equal(span.spanContext().traceId, TRACE_ID);
    assert.equal(fn.parentSpanContext?.spanId, idOf(attempt), "the function pod's span is the gateway attempt's child");
    assert.equal(model.parentSpanContext?.spanId, idOf(fn), "the model pod's span is the function's child, over HTTP");
    assert.equal(fn.attributes["support.intent"], "technical");
    assert.deepEqual(
      childrenOf(modelTracing.spans(), model).map((span) => span.name),
      ["model.queue_wait", "model.run"],
    );
  });
});

describe("a pod's tracing variables", () => {
  it("refuses to start on a variable it cannot use, naming it, before it listens", async () => {
    const spec = join(mkdtempSync(join(tmpdir(), "cloudloom-trace-")), "spec.json");
    writeFileSync(spec, JSON.stringify(app.toSpec()));
    const args = { spec, root: app.root, only: "function:active-span", region: "central", modelUrls: [], port: 0, host: "127.0.0.1" };
    const io = { out: () => undefined, err: () => undefined };
    await assert.rejects(
      serveCommand(args, io, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_SAMPLER: "sometimes" }),
      (error: unknown) =>
        error instanceof UsageError && /cannot trace active-span: OTEL_TRACES_SAMPLER "sometimes" is not supported/.test(error.message),
    );
  });
});
