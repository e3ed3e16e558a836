/**
 * Objectives on Alibaba Cloud: a CloudMonitor alarm rule (`cms.Alarm`) per
 * objective, function and region, on the metrics Function Compute reports to
 * CloudMonitor (namespace `acs_fc`), notifying one contact group of the app.
 *
 * A route's objectives are judged on each FC function it reaches, in each
 * region. CloudMonitor keeps no percentile and no ratio of two metrics for
 * FC, so each rule evaluates one-minute periods and alerts when every minute
 * of the window breaches: the error rate is FC's own function-error rate, and
 * a p99 objective is judged on each minute's slowest call (stricter than a
 * p99, which is why the whole window must breach). Cold starts and batch
 * queues are not in CloudMonitor.
 */
import * as pulumi from "@pulumi/pulumi";
import { Alarm, AlarmContact, AlarmContactGroup } from "@pulumi/alicloud/cms";
import type { Provider } from "@pulumi/alicloud/provider";
import { alertDefinitions, judgeAlerts, type AlertDefinition, type Backend, type Unobserved } from "../shared/alerts";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import type { AlicloudContext } from "./context";

/** Where CloudMonitor keeps a backend's metrics: FC's, by function name, in the backend's Alibaba region. */
export interface CloudMonitorSource {
  functionName: string;
  alicloudRegion: string;
}

/** CloudMonitor's namespace of Function Compute's metrics. */
export const FC_NAMESPACE = "acs_fc";

/** CloudMonitor evaluates each rule on one-minute periods. */
const PERIOD_SECONDS = 60;

/** The metric, statistic and threshold (in the metric's unit) a rule compares. */
export interface RuleMeasure {
  metric: string;
  statistics: string;
  threshold: number;
}

/** How a rule judges `alert` on FC's metrics, or why it cannot. */
export function ruleMeasure(alert: AlertDefinition, source: CloudMonitorSource | undefined): RuleMeasure | { unobserved: string } {
  if (!source)
    return { unobserved: "the model runs on ACK: its numbers are the runtime's Prometheus metrics, which CloudMonitor does not collect" };
  switch (alert.measure) {
    case "errorRate":
      // A percent of invocations whose function failed (crashed, timed out, ran out of memory).
      return { metric: "FunctionFunctionErrorsRate", statistics: "Average", threshold: alert.threshold * 100 };
    case "p99":
      return { metric: "FunctionMaxDuration", statistics: "Maximum", threshold: alert.threshold * 1000 };
    case "coldStartShare":
      return { unobserved: "Function Compute reports no cold starts to CloudMonitor" };
    default:
      return {
        unobserved:
          "the batch queue lives in the cloudloom runtime; its numbers are Prometheus metrics, which CloudMonitor does not collect",
      };
  }
}

/** One rule to make: an alert judged on one backend in one region, and how. */
export interface RuleTarget {
  alert: AlertDefinition;
  backend: Backend;
  region: string;
  source: CloudMonitorSource;
  measure: RuleMeasure;
}

/** Inputs of an app's alarm rules on Alibaba Cloud. */
export interface AlicloudAlertsArgs {
  app: string;
  targets: RuleTarget[];
  unobserved: Unobserved[];
  /** Each spec region's provider. */
  providers: Map<string, Provider>;
  /** Addresses in the app's contact group (stack config `cloudloom:alertEmails`). */
  emails: string[];
}

/** The rule's name: the alert's, and for a route the backend it judges, then the region. */
export function ruleName(target: Pick<RuleTarget, "alert" | "backend" | "region">): string {
  const backend = target.backend.kind === "function" ? `fn-${target.backend.name}` : modelPart(target.backend.name, target.backend.version);
  return [target.alert.name, ...(target.alert.subject.kind === "route" ? [backend] : []), target.region].join("-");
}

/** An app's CloudMonitor alarm rules and their contact group, typed `cloudloom:alicloud:Alerts`. */
export class AlicloudAlerts extends pulumi.ComponentResource {
  constructor(name: string, args: AlicloudAlertsArgs, opts: pulumi.ComponentResourceOptions & { provider: Provider }) {
    // The objectives no rule judges are the component's input, so `cloudloom plan` can list them.
    super("cloudloom:alicloud:Alerts", name, { unobserved: args.unobserved }, opts);
    const account = { parent: this, provider: opts.provider };
    const groupName = resourceName(args.app, "alerts");
    const contacts = args.emails.map((email, i) => {
      const contactName = `${groupName}-${i}`;
      return new AlarmContact(
        contactName,
        { alarmContactName: contactName, describe: `${args.app} alerts: ${email}`, channelsMail: email },
        account,
      ).alarmContactName;
    });
    const group = new AlarmContactGroup(
      groupName,
      { alarmContactGroupName: groupName, describe: `Who hears of ${args.app}'s breached objectives`, contacts },
      account,
    );
    for (const target of args.targets) {
      const { alert, backend, source, measure } = target;
      const rule = ruleName(target);
      const escalation = {
        statistics: measure.statistics,
        comparisonOperator: ">",
        threshold: String(measure.threshold),
        // Every minute of the window must breach.
        times: alert.windowSeconds / PERIOD_SECONDS,
      };
      new Alarm(
        rule,
        {
          name: rule,
          project: FC_NAMESPACE,
          metric: measure.metric,
          period: PERIOD_SECONDS,
          metricDimensions: JSON.stringify([{ region: source.alicloudRegion, functionName: source.functionName }]),
          contactGroups: [group.alarmContactGroupName],
          ...(alert.severity === "page" ? { escalationsCritical: escalation } : { escalationsWarn: escalation }),
          tags: entryLabels(args.app, backend.kind, backend.name, {
            ...(backend.kind === "model" ? { "cloudloom.dev/version": backend.version } : {}),
            "cloudloom.dev/objective": alert.objective,
            "cloudloom.dev/severity": alert.severity,
          }),
        },
        { parent: this, provider: args.providers.get(target.region)! },
      );
    }
    this.registerOutputs({});
  }
}

/** The alerts step: each objective's rules on every FC function it judges, in every region that function runs in. */
export function placeAlerts(context: AlicloudContext): void {
  const { spec, name, parent } = context;
  if (alertDefinitions(spec).length === 0) return;
  const { targets, unobserved } = judgeAlerts(spec, context.monitored, (alert, source) => ruleMeasure(alert, source));
  const providers = new Map([...context.regions].map(([region, { provider }]) => [region, provider]));
  // Contact groups belong to the account, not a region: the first region's provider makes it.
  const [first] = providers.values();
  new AlicloudAlerts(
    resourceName(name, "alerts"),
    { app: spec.app, targets, unobserved, providers, emails: context.args.alertEmails ?? [] },
    { parent, provider: first },
  );
}
