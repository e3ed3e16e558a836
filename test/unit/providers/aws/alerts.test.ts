import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import example from "../../../../examples/support-desk/app";
import { App } from "../../../../sdk";
import { AwsApp } from "../../../../providers/aws/app";
import { COLD_START_NAMESPACE, COLD_START_PATTERN } from "../../../../providers/aws/alerts";
import { STAGE_THROTTLING } from "../../../../providers/aws/model-api";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const byName = (resources: PlannedResource[], type: string): Record<string, any> =>
  Object.fromEntries(resources.filter((r) => r.type === type).map((r) => [r.name, r.inputs]));
const QUEUE = "the batch queue lives in the cloudloom runtime; its numbers are Prometheus metrics, which CloudWatch does not collect";
const EDGE_ZONE =
  "in edge-berlin it runs as a runtime container on the edge zone's nodes; its numbers are Prometheus metrics, which CloudWatch does not collect";
const regionOf = (r: PlannedResource) => /support-desk-(central|edge-berlin)-id$/.exec(r.provider ?? "")?.[1];

describe("AWS alarms from objectives (the example under mocks, from Pulumi.dev-aws.yaml)", () => {
  let plan: Plan;
  let alarms: Record<string, any>;

  before(async () => {
    plan = await planApp("examples/support-desk", "aws", { ...stackConfig("aws"), alertEmails: "oncall@example.com, team@example.com" });
    alarms = byName(plan.resources, ALARM);
  });

  it("alarms on every backend a route reaches, and on each function and model itself, in every region CloudWatch sees", () => {
    // The Berlin edge is a Wavelength Zone: its entries run as runtime containers on the zone's nodes, which CloudWatch does not see.
    const names = (prefix: string, regions = ["central"]) => regions.map((region) => `support-desk-${prefix}-${region}`);
    assert.deepEqual(Object.keys(alarms).sort(), [
      ...names("fn-classify-cold-start-share-ticket"),
      ...names("route-post-v1-classify-error-rate-page-fn-classify"),
      ...names("route-post-v1-classify-error-rate-ticket-fn-classify"),
      ...names("route-post-v1-classify-p99-page-fn-classify"),
      ...names("route-post-v1-models-intent-error-rate-page-intent-v1"),
      ...names("route-post-v1-models-intent-p99-ticket-intent-v1"),
      ...names("route-post-v1-tickets-reclassify-error-rate-ticket-fn-reclassify"),
    ]);
    for (const r of plan.resources.filter((x) => x.type === ALARM))
      assert.equal(regionOf(r), r.name.endsWith("edge-berlin") ? "edge-berlin" : "central", `${r.name} uses its region's provider`);
  });

  it("judges a function's error rate on its Function URL's 5xx share over the objective's window, notifying its region's topic", () => {
    const alarm = alarms["support-desk-route-post-v1-classify-error-rate-page-fn-classify-central"];
    const fn = { FunctionName: "support-desk-fn-classify-central" };
    assert.deepEqual(alarm.metricQueries, [
      {
        id: "errors",
        metric: { namespace: "AWS/Lambda", metricName: "Url5xxCount", dimensions: fn, period: 300, stat: "Sum" },
        returnData: false,
      },
      {
        id: "requests",
        metric: { namespace: "AWS/Lambda", metricName: "UrlRequestCount", dimensions: fn, period: 300, stat: "Sum" },
        returnData: false,
      },
      { id: "measure", expression: "errors / requests", label: "error rate", returnData: true },
    ]);
    assert.deepEqual(
      [alarm.comparisonOperator, alarm.threshold, alarm.evaluationPeriods, alarm.datapointsToAlarm, alarm.treatMissingData],
      ["GreaterThanThreshold", 0.02, 1, 1, "notBreaching"],
    );
    const topic = "arn:aws:sns:eu-west-1:123456789012:support-desk-central-alerts";
    assert.deepEqual([alarm.alarmActions, alarm.okActions], [[topic], [topic]]);
    assert.deepEqual(alarm.tags, {
      "cloudloom.dev/app": "support-desk",
      "cloudloom.dev/kind": "function",
      "cloudloom.dev/name": "classify",
      "cloudloom.dev/objective": "routes.POST /v1/classify.objectives.0",
      "cloudloom.dev/severity": "page",
    });
    assert.equal(alarms["support-desk-route-post-v1-classify-error-rate-ticket-fn-classify-central"].metricQueries[0].metric.period, 3600);
  });

  it("judges p99 latency as CloudWatch's p99 statistic, in the metric's own unit", () => {
    const lambda = alarms["support-desk-route-post-v1-classify-p99-page-fn-classify-central"];
    assert.deepEqual(lambda.metricQueries, [
      {
        id: "measure",
        metric: {
          namespace: "AWS/Lambda",
          metricName: "Duration",
          dimensions: { FunctionName: "support-desk-fn-classify-central" },
          period: 600,
          stat: "p99",
        },
        returnData: true,
      },
    ]);
    assert.equal(lambda.threshold, 800, "800 ms");
    const api = alarms["support-desk-route-post-v1-models-intent-p99-ticket-intent-v1-central"];
    assert.deepEqual(api.metricQueries[0].metric, {
      namespace: "AWS/ApiGateway",
      metricName: "Latency",
      dimensions: { ApiId: "support-desk-central-models-id", Stage: "$default", Route: "POST /models/intent-v1" },
      period: 600,
      stat: "p99",
    });
    assert.equal(api.threshold, 250);
  });

  it("judges a GPU model's error rate on its route of the model API, whose stage publishes per-route metrics without throttling everything", () => {
    const alarm = alarms["support-desk-route-post-v1-models-intent-error-rate-page-intent-v1-central"];
    assert.deepEqual(
      alarm.metricQueries.map((q: any) => q.metric?.metricName ?? q.expression),
      ["5xx", "Count", "errors / requests"],
    );
    assert.equal(alarm.metricQueries[0].metric.dimensions.Route, "POST /models/intent-v1");
    const stages = plan.resources.filter((r) => r.type === "aws:apigatewayv2/stage:Stage");
    assert.equal(stages.length, 1, "one model API: the central region's (the Wavelength edge has none)");
    for (const stage of stages)
      assert.deepEqual((stage.inputs as any).defaultRouteSettings, { detailedMetricsEnabled: true, ...STAGE_THROTTLING });
    assert.deepEqual(STAGE_THROTTLING, { throttlingRateLimit: 10_000, throttlingBurstLimit: 5_000 });
  });

  it("counts a function's cold starts from its log group's platform reports, and judges their share of invocations", () => {
    const filters = byName(plan.resources, "aws:cloudwatch/logMetricFilter:LogMetricFilter");
    assert.deepEqual(filters["support-desk-fn-classify-central-cold-starts"], {
      name: "support-desk-fn-classify-central-cold-starts",
      logGroupName: "/aws/lambda/support-desk-fn-classify-central",
      pattern: COLD_START_PATTERN,
      metricTransformation: { namespace: COLD_START_NAMESPACE, name: "support-desk-fn-classify-central", value: "1", unit: "Count" },
    });
    assert.equal(COLD_START_PATTERN, '{ $.type = "platform.report" && $.record.metrics.initDurationMs > 0 }');
    const alarm = alarms["support-desk-fn-classify-cold-start-share-ticket-central"];
    assert.deepEqual(alarm.metricQueries[0].metric, {
      namespace: COLD_START_NAMESPACE,
      metricName: "support-desk-fn-classify-central",
      period: 3600,
      stat: "Sum",
    });
    assert.equal(alarm.metricQueries[2].expression, "FILL(cold, 0) / invocations");
    assert.equal(alarm.threshold, 0.02);
    // The functions log in JSON, which the filter's pattern reads.
    const fn = byName(plan.resources, "aws:lambda/function:Function")["support-desk-fn-classify-central"];
    assert.equal(fn.loggingConfig.logFormat, "JSON");
  });

  it("gives each region with alarms one SNS topic, with an email subscription per cloudloom:alertEmails address", () => {
    const topics = plan.resources.filter((r) => r.type === "aws:sns/topic:Topic");
    assert.deepEqual(
      topics.map((t) => [t.name, regionOf(t)]),
      [["support-desk-central-alerts", "central"]],
    );
    const subscriptions = plan.resources.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription");
    assert.deepEqual(
      subscriptions.map((s) => [regionOf(s), (s.inputs as any).topic, (s.inputs as any).protocol, (s.inputs as any).endpoint]),
      [
        ["central", "arn:aws:sns:eu-west-1:123456789012:support-desk-central-alerts", "email", "oncall@example.com"],
        ["central", "arn:aws:sns:eu-west-1:123456789012:support-desk-central-alerts", "email", "team@example.com"],
      ],
    );
  });

  it("lists the objectives CloudWatch cannot see, with the reason, and gives the EKS cluster no Prometheus rules", () => {
    const component = plan.resources.find((r) => r.type === "cloudloom:aws:Alerts")!;
    assert.deepEqual(
      (component.inputs as any).unobserved.map((u: any) => [u.objective, u.reason]),
      [
        ...[
          "routes.POST /v1/classify.objectives.0",
          "routes.POST /v1/classify.objectives.1",
          "routes.POST /v1/classify.objectives.2",
          "routes.POST /v1/models/intent.objectives.0",
          "routes.POST /v1/models/intent.objectives.1",
          "functions.classify.objectives.0",
        ].map((objective) => [objective, EDGE_ZONE]),
        ["models.intent@1.objectives.0", QUEUE],
        ["models.intent@1.objectives.0", EDGE_ZONE],
        ["models.intent@1.objectives.1", QUEUE],
        ["models.intent@1.objectives.1", EDGE_ZONE],
        [
          "models.intent@1.objectives.2",
          "the model runs on EKS: its cold starts are the runtime's Prometheus metrics, which CloudWatch does not collect",
        ],
        ["models.intent@1.objectives.2", EDGE_ZONE],
      ],
    );
    assert.ok(!plan.resources.some((r) => r.type.startsWith("kubernetes:monitoring.coreos.com")));
  });

  it("refuses a malformed cloudloom:alertEmails before any resource, naming the value", async () => {
    await assert.rejects(
      planApp("examples/support-desk", "aws", { ...stackConfig("aws"), alertEmails: "oncall@example.com,pager" }),
      (e: Error & { code?: string }) => e.code === "CL_TARGET_CONFIG" && /alertEmails has "pager"/.test(e.message),
    );
  });
});

describe("AWS alarms on a SageMaker Serverless model", () => {
  it("judges its error rate, p99 (in microseconds) and cold-start share on SageMaker's endpoint metrics", async () => {
    const app = new App("cpu-app", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
    const { artifact, signature } = example.toDraft().models["intent@1"];
    const model = app.model("intent", {
      version: "2",
      artifact,
      signature,
      regions: [central],
      objectives: [{ p99: "300 ms", severity: "page" }, { coldStartShare: "10%", window: "1 hour" }, { queueAge: "10 ms" }],
    });
    app.route("POST /intent", { target: model, objectives: [{ errorRate: "1%" }] });
    const spec = app.toSpec({ target: "aws" });
    const network = {
      vpcId: "vpc-1",
      subnetIds: ["subnet-1", "subnet-2"],
      publicSubnetIds: ["subnet-3", "subnet-4"],
      cidrBlock: "10.0.0.0/16",
    };
    const { resources } = await planUnderMocks(
      () =>
        new AwsApp("cpu-app", {
          spec,
          root: example.root,
          networks: { central: network },
          sagemakerImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloudloom-runtime:0.1.0",
        }).endpoints,
    );
    const alarms = byName(resources, ALARM);
    const endpoint = { EndpointName: "cpu-app-intent-v2-central", VariantName: "main" };
    const error = alarms["cpu-app-route-post-intent-error-rate-ticket-intent-v2-central"];
    assert.deepEqual(
      error.metricQueries.map((q: any) =>
        q.metric ? [q.metric.namespace, q.metric.metricName, q.metric.dimensions, q.metric.stat] : q.expression,
      ),
      [
        ["AWS/SageMaker", "Invocation5XXErrors", endpoint, "Sum"],
        ["AWS/SageMaker", "Invocations", endpoint, "Sum"],
        "errors / invocations",
      ],
    );
    const p99 = alarms["cpu-app-intent-v2-p99-page-central"];
    assert.deepEqual(
      [p99.metricQueries[0].metric.metricName, p99.metricQueries[0].metric.stat, p99.threshold],
      ["ModelLatency", "p99", 300_000],
    );
    const cold = alarms["cpu-app-intent-v2-cold-start-share-ticket-central"];
    assert.deepEqual(
      cold.metricQueries.slice(0, 2).map((q: any) => [q.metric.metricName, q.metric.stat, q.metric.period]),
      [
        ["ModelSetupTime", "SampleCount", 3600],
        ["Invocations", "Sum", 3600],
      ],
    );
    const component = resources.find((r) => r.type === "cloudloom:aws:Alerts")!;
    assert.deepEqual(
      (component.inputs as any).unobserved.map((u: any) => u.objective),
      ["models.intent@2.objectives.2"],
    );
  });
});
