import assert from "node:assert/strict";
import { parser } from "@prometheus-io/lezer-promql";
import example from "../../../examples/support-desk/app";
import { App, type SpecV1 } from "../../../sdk";
import { alertExpression } from "../../../providers/kubernetes/alerts";
import { KubernetesApp, type KubernetesAppArgs } from "../../../providers/kubernetes/app";
import { kubernetesStackSettings } from "../../../providers/kubernetes/settings";
import { alertDefinitions } from "../../../providers/shared/alerts";
import { TargetConfigError } from "../../../providers/shared/config-error";
import { planUnderMocks, type PlannedResource } from "../../../providers/plan";
import { HTTP_LABELS, METRIC_NAMES } from "../../../runtime/contract";

const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const ALERTS = "cloudloom:kubernetes:Alerts";

async function plan(spec: SpecV1, extra: Partial<KubernetesAppArgs> = {}): Promise<PlannedResource[]> {
  const { resources } = await planUnderMocks(
    () => new KubernetesApp(spec.app, { spec, artifactBaseUrl: "https://models.example.com", ...extra }).endpoints,
  );
  return resources;
}

const ofType = (resources: PlannedResource[], type: string): any[] => resources.filter((r) => r.type === type).map((r) => r.inputs);

/** Where a PromQL expression fails to parse (lezer's error nodes), as offsets; empty when it parses. */
function syntaxErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

/** The metric names an expression selects, from the parse tree. */
function selectedMetrics(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") names.push(expr.slice(node.from, node.to));
    },
  });
  return names;
}

describe("Kubernetes alerts from objectives (PrometheusRule and ServiceMonitors)", () => {
  const spec = example.toSpec({ target: "kubernetes" });
  let resources: PlannedResource[];
  let rules: any[];

  before(async () => {
    resources = await plan(spec);
    const [rule] = ofType(resources, RULE);
    rules = rule.spec.groups[0].rules;
  });

  it("gives the example app one PrometheusRule in its namespace, labelled for the app, with an alert per objective", () => {
    const [rule] = ofType(resources, RULE);
    assert.equal(rule.apiVersion, "monitoring.coreos.com/v1");
    assert.deepEqual(rule.metadata, {
      name: "support-desk-objectives",
      namespace: "support-desk",
      labels: { "cloudloom.dev/app": "support-desk", "cloudloom.dev/kind": "app", "cloudloom.dev/name": "support-desk" },
    });
    assert.equal(rule.spec.groups[0].name, "support-desk.objectives");
    assert.deepEqual(
      rules.map((r) => [r.alert, r.labels.severity, r.labels.cloudloom_objective]),
      [
        ["SupportDeskRoutePostV1ClassifyErrorRatePage", "page", "routes.POST /v1/classify.objectives.0"],
        ["SupportDeskRoutePostV1ClassifyErrorRateTicket", "ticket", "routes.POST /v1/classify.objectives.1"],
        ["SupportDeskRoutePostV1ClassifyP99Page", "page", "routes.POST /v1/classify.objectives.2"],
        ["SupportDeskRoutePostV1ModelsIntentErrorRatePage", "page", "routes.POST /v1/models/intent.objectives.0"],
        ["SupportDeskRoutePostV1ModelsIntentP99Ticket", "ticket", "routes.POST /v1/models/intent.objectives.1"],
        ["SupportDeskRoutePostV1TicketsReclassifyErrorRateTicket", "ticket", "routes.POST /v1/tickets/reclassify.objectives.0"],
        ["SupportDeskFnClassifyColdStartShareTicket", "ticket", "functions.classify.objectives.0"],
        ["SupportDeskIntentV1QueueAgePage", "page", "models.intent@1.objectives.0"],
        ["SupportDeskIntentV1QueueDepthTicket", "ticket", "models.intent@1.objectives.1"],
        ["SupportDeskIntentV1ColdStartShareTicket", "ticket", "models.intent@1.objectives.2"],
      ],
    );
    assert.equal(
      rules[0].annotations.summary,
      "error rate (share of requests answered with a 5xx) of route POST /v1/classify above 2% over 5 minutes",
    );
    assert.ok(
      ofType(resources, ALERTS).every((a) => a.unobserved.length === 0),
      "Kubernetes judges every objective",
    );
  });

  it("judges a route's error rate and p99 on the gateway's OpenTelemetry request histogram, over the objective's window", () => {
    const selector = `{namespace="support-desk",${HTTP_LABELS.method}="POST",${HTTP_LABELS.route}="/v1/classify"`;
    assert.equal(
      rules[0].expr,
      `sum(rate(${METRIC_NAMES.httpServerDuration}_count${selector},${HTTP_LABELS.status}=~"5.."}[5m])) / ` +
        `sum(rate(${METRIC_NAMES.httpServerDuration}_count${selector}}[5m])) > 0.02`,
    );
    assert.match(rules[1].expr, /\[1h\]\)\) > 0\.005$/);
    assert.equal(
      rules[2].expr,
      `histogram_quantile(0.99, sum by (le) (rate(${METRIC_NAMES.httpServerDuration}_bucket${selector}}[10m]))) > 0.8`,
    );
  });

  it("judges cold starts and the batch queue on the runtime's own metrics, by entry", () => {
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r.expr]));
    assert.equal(
      byName.SupportDeskFnClassifyColdStartShareTicket,
      `sum(rate(${METRIC_NAMES.invocations}{namespace="support-desk",entry="classify",start="cold"}[1h])) / ` +
        `sum(rate(${METRIC_NAMES.invocations}{namespace="support-desk",entry="classify"}[1h])) > 0.02`,
    );
    assert.equal(
      byName.SupportDeskIntentV1QueueAgePage,
      `histogram_quantile(0.99, sum by (le) (rate(${METRIC_NAMES.modelQueueDuration}_bucket{namespace="support-desk",model="intent@1"}[5m]))) > 0.02`,
    );
    assert.equal(
      byName.SupportDeskIntentV1QueueDepthTicket,
      `sum(avg_over_time(${METRIC_NAMES.modelQueueDepth}{namespace="support-desk",model="intent@1"}[10m])) > 128`,
    );
  });

  it("writes every expression in valid PromQL (lezer-promql finds no error node), selecting only metrics cloudloom exports", () => {
    const exported = new Set([
      `${METRIC_NAMES.httpServerDuration}_count`,
      `${METRIC_NAMES.httpServerDuration}_bucket`,
      METRIC_NAMES.invocations,
      METRIC_NAMES.modelQueueDepth,
      `${METRIC_NAMES.modelQueueDuration}_bucket`,
    ]);
    assert.equal(rules.length, 10);
    for (const { alert, expr } of rules) {
      assert.deepEqual(syntaxErrors(expr), [], `${alert}: ${expr}`);
      const metrics = selectedMetrics(expr);
      assert.ok(metrics.length > 0, `${alert} selects no metric`);
      for (const metric of metrics) assert.ok(exported.has(metric), `${alert} selects ${metric}, which nothing exports`);
    }
  });

  it("catches a typo with the same check: a broken expression has error nodes", () => {
    const good = rules[0].expr as string;
    for (const broken of [good.replace(/\)\) \/ /, ") / "), good.replace("[5m]", "[5x]"), `${good} >`, good.replace('"5.."', '"5..')])
      assert.notDeepEqual(syntaxErrors(broken), [], `not caught: ${broken}`);
    assert.notDeepEqual(syntaxErrors(good.replace("rate(", "rat(")), [], "an unknown function is caught too");
    assert.notDeepEqual(syntaxErrors('sum(rate(x{a="b"}[5m])'), [], "an unclosed call is caught");
  });

  it("has Prometheus scrape the gateway (with the metrics token) and the runtime pods through ServiceMonitors on their http port", () => {
    // By name: the gateway's monitor waits for its token Secret's name, so it may be registered second.
    const monitors = ofType(resources, MONITOR).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    assert.deepEqual(
      monitors.map((m) => [m.metadata.name, m.metadata.namespace, m.spec.selector, m.spec.endpoints]),
      [
        [
          "support-desk-gateway",
          "support-desk",
          { matchLabels: { "cloudloom.dev/app": "support-desk", "cloudloom.dev/kind": "gateway", "cloudloom.dev/name": "gateway" } },
          [
            {
              port: "http",
              path: "/metrics",
              interval: "30s",
              // The Prometheus Operator's SafeAuthorization: the Secret the gateway takes its token from.
              authorization: { type: "Bearer", credentials: { name: "support-desk-metrics-token", key: "token" } },
            },
          ],
        ],
        [
          "support-desk-runtime",
          "support-desk",
          {
            matchLabels: { "cloudloom.dev/app": "support-desk" },
            matchExpressions: [{ key: "cloudloom.dev/kind", operator: "In", values: ["function", "model"] }],
          },
          [{ port: "http", path: "/metrics", interval: "30s" }],
        ],
      ],
    );
    // Every Service they select (all but Redis's) names its port "http".
    const selected = ofType(resources, "kubernetes:core/v1:Service").filter((s) => s.metadata.labels["cloudloom.dev/name"] !== "redis");
    assert.equal(selected.length, 6);
    for (const service of selected) assert.equal(service.spec.ports[0].name, "http", service.metadata.name);
  });

  it("labels the rule and monitors for the operator's selectors, and with monitoring off creates none and lists every objective as unobserved", async () => {
    const labelled = await plan(spec, { monitoringLabels: { release: "kube-prometheus-stack" } });
    for (const r of [...ofType(labelled, RULE), ...ofType(labelled, MONITOR)])
      assert.equal(r.metadata.labels.release, "kube-prometheus-stack");
    const off = await plan(spec, { monitoring: false });
    assert.deepEqual([...ofType(off, RULE), ...ofType(off, MONITOR)], []);
    const [component] = ofType(off, ALERTS);
    assert.equal(component.unobserved.length, 10);
    assert.match(component.unobserved[0].reason, /cloudloom:monitoring is false/);
  });

  it("lists an objective on a function no route reaches as unobserved, since the gateway is where requests are counted", async () => {
    const app = new App("lonely", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { kubernetes: { labels: {} } } });
    app.function("batch", {
      handler: "functions/classify.ts",
      regions: [central],
      objectives: [{ errorRate: "1%" }, { coldStartShare: "5%" }],
    });
    const resourcesOf = await plan(app.toSpec({ target: "kubernetes" }));
    const [component] = ofType(resourcesOf, ALERTS);
    assert.deepEqual(component.unobserved, [
      {
        objective: "functions.batch.objectives.0",
        name: "lonely-fn-batch-error-rate-ticket",
        reason: "no route reaches it, and on Kubernetes the gateway is where requests are counted and timed",
      },
    ]);
    const [rule] = ofType(resourcesOf, RULE);
    assert.deepEqual(
      rule.spec.groups[0].rules.map((r: any) => r.alert),
      ["LonelyFnBatchColdStartShareTicket"],
    );
    assert.deepEqual(
      ofType(resourcesOf, MONITOR)
        .map((m) => m.metadata.name)
        .sort(),
      ["lonely-gateway", "lonely-runtime"],
    );
  });

  it("judges a model version's requests on the routes that reach it, by their version label", async () => {
    const app = new App("split", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { kubernetes: { labels: {} } } });
    const draft = example.toDraft().models["intent@1"];
    const model = (version: string) =>
      app.model("intent", {
        version,
        artifact: draft.artifact,
        signature: draft.signature,
        regions: [central],
        objectives: [{ p99: "100 ms" }],
      });
    const [v1, v2] = [model("1"), model("2")];
    app.route("POST /a", {
      target: {
        strategy: "canary",
        versions: [
          { model: v1, weight: 90 },
          { model: v2, weight: 10 },
        ],
      },
    });
    app.route("PUT /b", { target: v2 });
    const [rule] = ofType(await plan(app.toSpec({ target: "kubernetes" })), RULE);
    const v2Rule = rule.spec.groups[0].rules.find((r: any) => r.alert === "SplitIntentV2P99Ticket");
    assert.equal(
      v2Rule.expr,
      `histogram_quantile(0.99, sum by (le) (rate(${METRIC_NAMES.httpServerDuration}_bucket{namespace="split",${HTTP_LABELS.method}="POST",${HTTP_LABELS.route}="/a",version="2"}[5m]) or ` +
        `rate(${METRIC_NAMES.httpServerDuration}_bucket{namespace="split",${HTTP_LABELS.method}="PUT",${HTTP_LABELS.route}="/b",version="2"}[5m]))) > 0.1`,
    );
    assert.deepEqual(syntaxErrors(v2Rule.expr), []);
  });

  it("reads cloudloom:monitoring and cloudloom:monitoringLabels from stack config, and refuses values it cannot use", () => {
    const source = (config: Record<string, string>) => ({
      get: (key: string) => config[key],
      getSecret: () => undefined,
      secretKeys: () => undefined,
    });
    const read = kubernetesStackSettings(source({ monitoring: "false", monitoringLabels: '{"release":"kube-prometheus-stack"}' }));
    assert.deepEqual([read.monitoring, read.monitoringLabels], [false, { release: "kube-prometheus-stack" }]);
    assert.deepEqual(
      [kubernetesStackSettings(source({})).monitoring, kubernetesStackSettings(source({})).monitoringLabels],
      [undefined, undefined],
    );
    const bads: Array<Record<string, string>> = [
      { monitoring: "off" },
      { monitoringLabels: "release=kps" },
      { monitoringLabels: '{"release":1}' },
      { monitoringLabels: "[]" },
    ];
    for (const bad of bads)
      assert.throws(
        () => kubernetesStackSettings(source(bad)),
        (e: Error) => e instanceof TargetConfigError && /cloudloom:monitoring/.test(e.message),
        JSON.stringify(bad),
      );
  });

  it("escapes label values, so a namespace with quotes or backslashes cannot break out of its matcher", () => {
    const [alert] = alertDefinitions(spec);
    const hostile = 'ns"} or vector(1) or {a="\\';
    const judged = alertExpression(alert, hostile);
    assert.ok("expr" in judged);
    assert.deepEqual(syntaxErrors(judged.expr), [], judged.expr);
    // The whole hostile string stays one label value: no vector(1) call appears in the parse tree.
    const calls: string[] = [];
    parser.parse(judged.expr).iterate({
      enter: (node) => {
        if (node.name === "FunctionIdentifier") calls.push(judged.expr.slice(node.from, node.to));
      },
    });
    assert.deepEqual([...new Set(calls)], ["rate"]);
  });
});
