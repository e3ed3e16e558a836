/**
 * Objectives on Kubernetes: one PrometheusRule holding an alert per
 * objective, over the gateway's and the runtime's own metrics, and the
 * ServiceMonitors that have Prometheus scrape the gateway and runtime pods
 * (the Prometheus Operator's `monitoring.coreos.com/v1` resources).
 *
 * Requests are measured where every call passes, the gateway: a route's by
 * its method and path, a function's or model's over the routes that reach it
 * (a model's by its version too). Cold starts and batch queues are the
 * runtime's own numbers, by entry.
 */
import * as pulumi from "@pulumi/pulumi";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import { HTTP_LABELS, METRIC_NAMES } from "../../runtime/contract";
import { alertDefinitions, backendKey, type AlertDefinition, type Unobserved } from "../shared/alerts";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { metricsTokenSecret } from "./metrics-token";
import { STACK_TOKEN_KEY } from "./stack-token";

/** The API group and version of the Prometheus Operator's resources. */
const MONITORING_API = "monitoring.coreos.com/v1";

/** How often Prometheus scrapes the app's pods. */
const SCRAPE_INTERVAL = "30s";

/** A PromQL label matcher list, `{a="x",b=~"y"}`; values are escaped as PromQL string literals. */
function selector(matchers: Record<string, string>, regex: Record<string, string> = {}): string {
  const quote = (value: string) => JSON.stringify(value);
  const parts = [
    ...Object.entries(matchers).map(([label, value]) => `${label}=${quote(value)}`),
    ...Object.entries(regex).map(([label, value]) => `${label}=~${quote(value)}`),
  ];
  return `{${parts.join(",")}}`;
}

/** `rate()` of `metric` over each selector, joined with `or`: one vector of every series any selector picks. */
const rates = (metric: string, selectors: string[], range: string) => selectors.map((s) => `rate(${metric}${s}[${range}])`).join(" or ");

/** A ratio of two sums: NaN (no alert) when nothing was counted. */
const ratio = (numerator: string, denominator: string) => `sum(${numerator}) / sum(${denominator})`;

/** The 99th percentile of a histogram's buckets over `selectors`. */
const p99 = (buckets: string, selectors: string[], range: string) =>
  `histogram_quantile(0.99, sum by (le) (${rates(`${buckets}_bucket`, selectors, range)}))`;

/** The label matchers of the gateway's requests for what an alert judges, one set per route; none when no route reaches it. */
function requestMatchers(alert: AlertDefinition, namespace: string): Array<Record<string, string>> {
  const { subject } = alert;
  const routes = subject.kind === "route" ? [subject] : subject.routes;
  const version: Record<string, string> = subject.kind === "model" ? { version: subject.version } : {};
  return routes.map((route) => ({ namespace, [HTTP_LABELS.method]: route.method, [HTTP_LABELS.route]: route.path, ...version }));
}

/** A window of whole minutes as a PromQL duration: `5m`, `1h`, `1d`. */
function promDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  return seconds % 3_600 === 0 ? `${seconds / 3_600}h` : `${seconds / 60}m`;
}

/** The PromQL expression that is true while `alert`'s objective is breached, or why Kubernetes cannot judge it. */
export function alertExpression(alert: AlertDefinition, namespace: string): { expr: string } | { unobserved: string } {
  const range = promDuration(alert.windowSeconds);
  const above = ` > ${alert.threshold}`;
  if (alert.measure === "errorRate" || alert.measure === "p99") {
    const matchers = requestMatchers(alert, namespace);
    if (matchers.length === 0)
      return { unobserved: "no route reaches it, and on Kubernetes the gateway is where requests are counted and timed" };
    const requests = matchers.map((m) => selector(m));
    if (alert.measure === "p99") return { expr: p99(METRIC_NAMES.httpServerDuration, requests, range) + above };
    const count = `${METRIC_NAMES.httpServerDuration}_count`;
    const errors = matchers.map((m) => selector(m, { [HTTP_LABELS.status]: "5.." }));
    return { expr: ratio(rates(count, errors, range), rates(count, requests, range)) + above };
  }
  if (alert.subject.kind === "route") return { unobserved: `a route has no ${alert.measure}` };
  const entry = backendKey(alert.subject);
  switch (alert.measure) {
    case "coldStartShare": {
      const calls = selector({ namespace, entry });
      const cold = selector({ namespace, entry, start: "cold" });
      return { expr: ratio(rates(METRIC_NAMES.invocations, [cold], range), rates(METRIC_NAMES.invocations, [calls], range)) + above };
    }
    case "queueDepth":
      return { expr: `sum(avg_over_time(${METRIC_NAMES.modelQueueDepth}${selector({ namespace, model: entry })}[${range}]))${above}` };
    default:
      return { expr: p99(METRIC_NAMES.modelQueueDuration, [selector({ namespace, model: entry })], range) + above };
  }
}

/** `support-desk-route-post-v1-classify-error-rate-page` → `SupportDeskRoutePostV1ClassifyErrorRatePage`: Prometheus alert names are identifiers. */
export function alertName(name: string): string {
  return name
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** One rule of a PrometheusRule group. */
export interface PrometheusAlertRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The app's alert rules over its pods in `namespace`, and the objectives no rule can judge. */
export function prometheusAlerts(
  alerts: AlertDefinition[],
  app: string,
  namespace: string,
): { rules: PrometheusAlertRule[]; unobserved: Unobserved[] } {
  const rules: PrometheusAlertRule[] = [];
  const unobserved: Unobserved[] = [];
  for (const alert of alerts) {
    const judged = alertExpression(alert, namespace);
    if ("unobserved" in judged) {
      unobserved.push({ objective: alert.objective, name: alert.name, reason: judged.unobserved });
      continue;
    }
    rules.push({
      alert: alertName(alert.name),
      expr: judged.expr,
      labels: { severity: alert.severity, cloudloom_app: app, cloudloom_objective: alert.objective },
      annotations: { summary: alert.summary, description: `Objective ${alert.objective} of app ${app} is breached.` },
    });
  }
  return { rules, unobserved };
}

/** Inputs of an app's alerts on Kubernetes. */
export interface KubernetesAlertsArgs {
  app: string;
  namespace: pulumi.Input<string>;
  /** The namespace's name, which the rules' expressions select on. */
  namespaceName: string;
  alerts: AlertDefinition[];
  /**
   * Scrape the gateway's pods (the app runs its gateway here), presenting the metrics token of this
   * Secret (its key `token`) as a Bearer token. @default the gateway is not scraped
   */
  gatewayTokenSecret?: pulumi.Input<string>;
  /** Scrape the function and model pods. */
  runtime: boolean;
  /** Labels the Prometheus Operator selects rules and monitors by (its `ruleSelector`, `serviceMonitorSelector`). */
  labels: Record<string, string>;
  /** Create the rules and monitors; when false, every objective is listed as unobserved. */
  monitoring: boolean;
}

/** Why no objective is judged when monitoring is off. */
const MONITORING_OFF = "stack config cloudloom:monitoring is false, so no PrometheusRule is created";

/** A PrometheusRule of the app's objectives and the ServiceMonitors it reads, typed `cloudloom:kubernetes:Alerts`. */
export class KubernetesAlerts extends pulumi.ComponentResource {
  constructor(name: string, args: KubernetesAlertsArgs, opts: pulumi.ComponentResourceOptions & { provider?: pulumi.ProviderResource }) {
    const { rules, unobserved } = args.monitoring
      ? prometheusAlerts(args.alerts, args.app, args.namespaceName)
      : { rules: [], unobserved: args.alerts.map((alert) => ({ objective: alert.objective, name: alert.name, reason: MONITORING_OFF })) };
    // The objectives no rule judges are the component's input, so `cloudloom plan` can list them.
    super("cloudloom:kubernetes:Alerts", name, { unobserved }, opts);
    if (!args.monitoring) {
      this.registerOutputs({});
      return;
    }
    const child = { parent: this, provider: opts.provider };
    const metadata = (part: string) => ({
      name: resourceName(args.app, part),
      namespace: args.namespace,
      labels: { ...entryLabels(args.app, "app", args.app), ...args.labels },
    });
    const monitor = (part: string, matchLabels: Record<string, string>, matchExpressions: object[] = [], authorization?: object) =>
      new CustomResource(
        resourceName(name, part),
        {
          apiVersion: MONITORING_API,
          kind: "ServiceMonitor",
          metadata: metadata(part),
          spec: {
            selector: { matchLabels, ...(matchExpressions.length ? { matchExpressions } : {}) },
            endpoints: [{ port: "http", path: "/metrics", interval: SCRAPE_INTERVAL, ...(authorization ? { authorization } : {}) }],
          },
        },
        child,
      );
    if (args.gatewayTokenSecret !== undefined)
      monitor("gateway", entryLabels(args.app, "gateway", "gateway"), [], {
        type: "Bearer",
        credentials: { name: args.gatewayTokenSecret, key: STACK_TOKEN_KEY },
      });
    if (args.runtime)
      monitor("runtime", { "cloudloom.dev/app": args.app }, [{ key: "cloudloom.dev/kind", operator: "In", values: ["function", "model"] }]);
    if (rules.length > 0)
      new CustomResource(
        resourceName(name, "objectives"),
        {
          apiVersion: MONITORING_API,
          kind: "PrometheusRule",
          metadata: metadata("objectives"),
          spec: { groups: [{ name: `${args.app}.objectives`, rules }] },
        },
        child,
      );
    this.registerOutputs({});
  }
}

/** The alerts step: an app with objectives gets its rules and the monitors they read (none when stack config turns monitoring off). */
export function placeAlerts(context: KubernetesContext): void {
  const { spec, args } = context;
  const alerts = alertDefinitions(spec);
  if (alerts.length === 0) return;
  new KubernetesAlerts(
    resourceName(context.name, "alerts"),
    {
      app: spec.app,
      namespace: context.namespace!,
      namespaceName: args.namespace,
      alerts,
      gatewayTokenSecret: args.gateway ? metricsTokenSecret(context) : undefined,
      runtime: Object.keys(spec.functions).length + Object.keys(spec.models).length > 0,
      labels: args.monitoringLabels ?? {},
      monitoring: args.monitoring,
    },
    context.child,
  );
}
