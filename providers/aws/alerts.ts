/**
 * Objectives on AWS: a CloudWatch metric alarm per objective, backend and
 * region, on the metrics AWS keeps for the backend (Lambda, SageMaker, the
 * API Gateway in front of EKS models), notifying an SNS topic of the app in
 * each region that has alarms (alarms notify topics of their own region).
 *
 * A route's objectives are judged on each function or model version it
 * reaches, in each region: the gateway's per-route numbers are Prometheus
 * metrics CloudWatch does not collect. Each alarm computes the measure over
 * the objective's window as one period.
 */
import * as pulumi from "@pulumi/pulumi";
import { LogMetricFilter, MetricAlarm } from "@pulumi/aws/cloudwatch";
import type { Provider } from "@pulumi/aws/provider";
import { Topic, TopicSubscription } from "@pulumi/aws/sns";
import type * as input from "@pulumi/aws/types/input";
import { alertDefinitions, backendKey, judgeAlerts, type AlertDefinition, type Backend, type Unobserved } from "../shared/alerts";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import type { AwsContext } from "./context";

/** Where a backend's CloudWatch metrics are, as the step that created it records them. */
export type CloudWatchSource =
  | { kind: "lambda"; functionName: pulumi.Input<string>; logGroup: pulumi.Input<string> }
  | { kind: "sagemaker"; endpointName: pulumi.Input<string>; variant: string }
  | { kind: "api"; apiId: pulumi.Input<string>; stage: string; route: string };

type Query = input.cloudwatch.MetricAlarmMetricQuery;

/** The metric queries of an alarm (the one returning data is the measure) and its threshold in that metric's unit. */
export interface AlarmMeasure {
  queries: Query[];
  threshold: number;
}

/** Where a Lambda function's cold starts are counted: a metric of its own, from its log group's platform reports. */
export const COLD_START_NAMESPACE = "cloudloom/ColdStarts";

/** The report Lambda writes (JSON log format) after an invocation that started a new execution environment. */
export const COLD_START_PATTERN = '{ $.type = "platform.report" && $.record.metrics.initDurationMs > 0 }';

type Dimensions = input.cloudwatch.MetricAlarmMetricQueryMetric["dimensions"];

const metric = (id: string, namespace: string, metricName: pulumi.Input<string>, dimensions: Dimensions, period: number, stat: string) =>
  ({ id, metric: { namespace, metricName, dimensions, period, stat }, returnData: false }) satisfies Query;

/** `numerator / denominator`, the query the alarm compares. */
const ratio = (numerator: Query, denominator: Query, label: string): Query[] => [
  numerator,
  denominator,
  { id: "measure", expression: `${numerator.id} / ${denominator.id}`, label, returnData: true },
];

/** A percentile statistic as the only query. */
const percentile = (query: Query): Query[] => [{ ...query, id: "measure", returnData: true }];

/** Why an alert cannot be judged on `source`, or undefined when it can. */
function unobservedOn(source: CloudWatchSource, alert: AlertDefinition): string | undefined {
  if (alert.measure === "queueDepth" || alert.measure === "queueAge")
    return "the batch queue lives in the cloudloom runtime; its numbers are Prometheus metrics, which CloudWatch does not collect";
  if (alert.measure === "coldStartShare" && source.kind === "api")
    return "the model runs on EKS: its cold starts are the runtime's Prometheus metrics, which CloudWatch does not collect";
  return undefined;
}

/**
 * The queries and threshold that judge `alert` on `source` over its window: the
 * error rate from 5xx and request counts, p99 latency as CloudWatch's p99
 * statistic, the cold-start share from cold starts and invocations.
 */
export function alarmMeasure(alert: AlertDefinition, source: CloudWatchSource): AlarmMeasure | { unobserved: string } {
  const unobserved = unobservedOn(source, alert);
  if (unobserved) return { unobserved };
  const period = alert.windowSeconds;
  const { threshold, measure } = alert;
  switch (source.kind) {
    case "lambda": {
      const fn = { FunctionName: source.functionName };
      const lambda = (id: string, name: string, stat: string) => metric(id, "AWS/Lambda", name, fn, period, stat);
      // The runtime answers a failed handler with a 500, which Lambda counts as a successful invocation:
      // the Function URL's 5xx count is what clients saw.
      if (measure === "errorRate")
        return {
          queries: ratio(lambda("errors", "Url5xxCount", "Sum"), lambda("requests", "UrlRequestCount", "Sum"), "error rate"),
          threshold,
        };
      if (measure === "p99") return { queries: percentile(lambda("p99", "Duration", "p99")), threshold: threshold * 1000 };
      const cold = metric("cold", COLD_START_NAMESPACE, source.functionName, undefined, period, "Sum");
      const queries = ratio(cold, lambda("invocations", "Invocations", "Sum"), "cold-start share");
      // No cold start in the window leaves no data point: count it as none.
      queries[2] = { ...queries[2], expression: "FILL(cold, 0) / invocations" };
      return { queries, threshold };
    }
    case "sagemaker": {
      const endpoint = { EndpointName: source.endpointName, VariantName: source.variant };
      const sagemaker = (id: string, name: string, stat: string) => metric(id, "AWS/SageMaker", name, endpoint, period, stat);
      if (measure === "errorRate")
        return {
          queries: ratio(sagemaker("errors", "Invocation5XXErrors", "Sum"), sagemaker("invocations", "Invocations", "Sum"), "error rate"),
          threshold,
        };
      // ModelLatency is in microseconds.
      if (measure === "p99") return { queries: percentile(sagemaker("p99", "ModelLatency", "p99")), threshold: threshold * 1_000_000 };
      // Serverless endpoints report ModelSetupTime once per instance they start for a request.
      const setups = sagemaker("cold", "ModelSetupTime", "SampleCount");
      return { queries: ratio(setups, sagemaker("invocations", "Invocations", "Sum"), "cold-start share"), threshold };
    }
    default: {
      const route = { ApiId: source.apiId, Stage: source.stage, Route: source.route };
      const api = (id: string, name: string, stat: string) => metric(id, "AWS/ApiGateway", name, route, period, stat);
      if (measure === "errorRate")
        return { queries: ratio(api("errors", "5xx", "Sum"), api("requests", "Count", "Sum"), "error rate"), threshold };
      return { queries: percentile(api("p99", "Latency", "p99")), threshold: threshold * 1000 };
    }
  }
}

/** One alarm to make: an alert judged on one backend in one region, and how. */
export interface AlarmTarget {
  alert: AlertDefinition;
  backend: Backend;
  region: string;
  source: CloudWatchSource;
  measure: AlarmMeasure;
}

/** Inputs of an app's alarms on AWS. */
export interface AwsAlertsArgs {
  app: string;
  targets: AlarmTarget[];
  unobserved: Unobserved[];
  /** Each spec region's provider. */
  providers: Map<string, Provider>;
  /** Addresses subscribed to every region's topic (stack config `cloudloom:alertEmails`). */
  emails: string[];
}

/** The alarm's name: the alert's, and for a route the backend it judges, then the region. */
export function alarmName(target: AlarmTarget): string {
  const backend = target.backend.kind === "function" ? `fn-${target.backend.name}` : modelPart(target.backend.name, target.backend.version);
  return [target.alert.name, ...(target.alert.subject.kind === "route" ? [backend] : []), target.region].join("-");
}

/** An app's alarms, their SNS topics and the cold-start filters they read, typed `cloudloom:aws:Alerts`. */
export class AwsAlerts extends pulumi.ComponentResource {
  constructor(name: string, args: AwsAlertsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // The objectives no alarm judges are the component's input, so `cloudloom plan` can list them.
    super("cloudloom:aws:Alerts", name, { unobserved: args.unobserved }, opts);
    const topics = new Map<string, Topic>();
    const topicIn = (region: string): Topic => {
      let topic = topics.get(region);
      if (!topic) {
        const child = { parent: this, provider: args.providers.get(region)! };
        const topicName = resourceName(args.app, region, "alerts");
        topic = new Topic(topicName, { name: topicName, tags: entryLabels(args.app, "app", args.app) }, child);
        args.emails.forEach(
          (email, i) => new TopicSubscription(`${topicName}-${i}`, { topic: topic!.arn, protocol: "email", endpoint: email }, child),
        );
        topics.set(region, topic);
      }
      return topic;
    };
    const filters = new Set<string>();
    for (const target of args.targets) {
      const { alert, backend, region, source, measure } = target;
      const child = { parent: this, provider: args.providers.get(region)! };
      if (alert.measure === "coldStartShare" && source.kind === "lambda") {
        const filterName = `${resourceName(args.app, "fn", backend.name, region)}-cold-starts`;
        if (!filters.has(filterName)) coldStartFilter(filterName, source, child);
        filters.add(filterName);
      }
      const topic = topicIn(region).arn;
      const alarm = alarmName(target);
      new MetricAlarm(
        alarm,
        {
          name: alarm,
          alarmDescription: `${alert.summary}, ${backend.kind} ${backendKey(backend)} in ${region} (${alert.objective}, severity ${alert.severity})`,
          comparisonOperator: "GreaterThanThreshold",
          threshold: measure.threshold,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          // No traffic, no breach.
          treatMissingData: "notBreaching",
          metricQueries: measure.queries,
          alarmActions: [topic],
          okActions: [topic],
          tags: entryLabels(args.app, backend.kind, backend.name, {
            ...(backend.kind === "model" ? { "cloudloom.dev/version": backend.version } : {}),
            "cloudloom.dev/objective": alert.objective,
            "cloudloom.dev/severity": alert.severity,
          }),
        },
        child,
      );
    }
    this.registerOutputs({});
  }
}

/** Counts a Lambda function's cold starts from its log group, as a metric of its own. */
function coldStartFilter(
  name: string,
  source: Extract<CloudWatchSource, { kind: "lambda" }>,
  opts: pulumi.CustomResourceOptions,
): LogMetricFilter {
  return new LogMetricFilter(
    name,
    {
      name,
      logGroupName: source.logGroup,
      pattern: COLD_START_PATTERN,
      metricTransformation: { namespace: COLD_START_NAMESPACE, name: source.functionName, value: "1", unit: "Count" },
    },
    opts,
  );
}

/** The alerts step: each objective's alarms on every backend it judges, in every region that backend runs in. */
export function placeAlerts(context: AwsContext): void {
  const { spec, name, parent } = context;
  if (alertDefinitions(spec).length === 0) return;
  const { targets, unobserved } = judgeAlerts(spec, context.monitored, (alert, source, region) =>
    source
      ? alarmMeasure(alert, source)
      : // Edge zones (Wavelength) run it as a runtime container on the zone's nodes, not on a CloudWatch-reporting service.
        {
          unobserved: `in ${region} it runs as a runtime container on the edge zone's nodes; its numbers are Prometheus metrics, which CloudWatch does not collect`,
        },
  );
  const providers = new Map([...context.regions].map(([region, { provider }]) => [region, provider]));
  new AwsAlerts(
    resourceName(name, "alerts"),
    { app: spec.app, targets, unobserved, providers, emails: context.args.alertEmails ?? [] },
    { parent },
  );
}
