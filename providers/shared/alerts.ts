/**
 * Alerts from objectives, decided once for every target: each objective of
 * the spec becomes one target-neutral definition (what it watches, its
 * threshold in base units, its window and severity, a stable name and a
 * sentence saying what breaches it). Each provider's `alerts.ts` turns these
 * into its own resources (PrometheusRule rules, CloudWatch alarms,
 * CloudMonitor rules) and says which it cannot observe, and why.
 */
import {
  MEASURES,
  measuresOf,
  objectiveHolders,
  thresholdOf,
  toSeconds,
  type Measure,
  type ObjectiveHolder,
  type Severity,
  type SpecV1,
} from "../../sdk/spec";
import { TargetConfigError } from "./config-error";
import { modelPart, resourceName } from "./naming";

/** A route, as the gateway's metrics name it. */
export interface WatchedRoute {
  /** The route key, `POST /v1/classify`. */
  key: string;
  method: string;
  path: string;
}

/** A function, or one version of a model, that serves calls. */
export type Backend = { kind: "function"; name: string } | { kind: "model"; key: string; name: string; version: string };

/** What an alert judges: a route and the backends it reaches, or a backend and the routes that reach it. */
export type AlertSubject = ({ kind: "route"; backends: Backend[] } & WatchedRoute) | (Backend & { routes: WatchedRoute[] });

/** One objective as an alert, for any target. */
export interface AlertDefinition {
  /** Spec path of the objective, e.g. `routes.POST /v1/classify.objectives.0`. */
  objective: string;
  /** `<app>-<subject>-<measure>-<severity>`, DNS-safe and unique in the app (validation refuses duplicates). */
  name: string;
  subject: AlertSubject;
  measure: Measure;
  /** The threshold in base units: a fraction, seconds, or a count. */
  threshold: number;
  windowSeconds: number;
  severity: Severity;
  /** What breaches it, e.g. `error rate (…) of route POST /v1/classify above 1% over 5 minutes`. */
  summary: string;
}

/** An objective a target cannot alert on, and why: `plan` lists these beside the alerts. */
export interface Unobserved {
  objective: string;
  name: string;
  reason: string;
}

/** Kebab-case names of the measures, for alert names. */
const MEASURE_PARTS: Record<Measure, string> = {
  errorRate: "error-rate",
  p99: "p99",
  coldStartShare: "cold-start-share",
  queueDepth: "queue-depth",
  queueAge: "queue-age",
};

const watchedRoute = (key: string): WatchedRoute => {
  const space = key.indexOf(" ");
  return { key, method: key.slice(0, space), path: key.slice(space + 1) };
};

/** The function or model versions a route reaches: its function, or every version its split names. */
export function routeBackends(spec: SpecV1, key: string): Backend[] {
  const { target } = spec.routes[key];
  if (target.kind === "function") return [{ kind: "function", name: target.name }];
  return Object.keys(target.weights)
    .sort()
    .map((version) => ({ kind: "model", key: `${target.name}@${version}`, name: target.name, version }));
}

/** The routes that reach a function or model version. */
function routesTo(spec: SpecV1, backend: Backend): WatchedRoute[] {
  return Object.keys(spec.routes)
    .filter((key) => routeBackends(spec, key).some((b) => (b.kind === "function" ? b.name : b.key) === backendKey(backend)))
    .map(watchedRoute);
}

/** A backend's spec key: the function's name or the model's `name@version`. */
export const backendKey = (backend: Backend): string => (backend.kind === "function" ? backend.name : backend.key);

function subjectOf(spec: SpecV1, holder: ObjectiveHolder): AlertSubject {
  if (holder.owner === "route") return { kind: "route", ...watchedRoute(holder.key), backends: routeBackends(spec, holder.key) };
  const backend: Backend =
    holder.owner === "function"
      ? { kind: "function", name: holder.key }
      : { kind: "model", key: holder.key, name: spec.models[holder.key].name, version: spec.models[holder.key].version };
  return { ...backend, routes: routesTo(spec, backend) };
}

/** The subject's part of an alert name: `route-post-v1-classify`, `fn-classify`, `intent-v1`. */
function subjectPart(subject: AlertSubject): string {
  if (subject.kind === "route") return `route-${subject.method}${subject.path}`;
  return subject.kind === "function" ? `fn-${subject.name}` : modelPart(subject.name, subject.version);
}

/** How the subject reads in a sentence. */
function subjectText(subject: AlertSubject): string {
  if (subject.kind === "route") return `route ${subject.key}`;
  return subject.kind === "function" ? `function ${subject.name}` : `model ${subject.key}`;
}

/** Every objective of `spec` as an alert definition, in spec order (routes, functions, models). Expects a valid spec. */
export function alertDefinitions(spec: SpecV1): AlertDefinition[] {
  return objectiveHolders(spec).flatMap((holder) => {
    const subject = subjectOf(spec, holder);
    return holder.objectives.map((objective, index) => {
      const [measure] = measuresOf(objective);
      return {
        objective: `${holder.path}.objectives.${index}`,
        name: resourceName(spec.app, subjectPart(subject), MEASURE_PARTS[measure], objective.severity),
        subject,
        measure,
        threshold: thresholdOf(objective, measure),
        windowSeconds: toSeconds(objective.window),
        severity: objective.severity,
        summary: `${MEASURES[measure].meaning} of ${subjectText(subject)} above ${String(objective[measure])} over ${objective.window}`,
      };
    });
  });
}

/** An address notifications go to: something@somewhere.tld, no spaces or commas. */
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

/** Stack config `cloudloom:alertEmails`: comma-separated addresses alerts notify (none when unset). */
export function parseAlertEmails(value: string | undefined): string[] {
  const emails = (value ?? "")
    .split(",")
    .map((email) => email.trim())
    .filter(Boolean);
  const bad = emails.find((email) => !EMAIL.test(email));
  if (bad !== undefined)
    throw new TargetConfigError(
      `stack config cloudloom:alertEmails has "${bad}", which is not an email address; set it with: pulumi config set cloudloom:alertEmails oncall@example.com,team@example.com`,
    );
  return emails;
}

/** The backends an alert judges: a route's, or the function or model itself. */
const judgedBackends = (alert: AlertDefinition): Backend[] => (alert.subject.kind === "route" ? alert.subject.backends : [alert.subject]);

/** One alert judged on one backend in one region, with the source its cloud keeps the numbers in and the measure it compares. */
export interface JudgedAlert<Source, Measure> {
  alert: AlertDefinition;
  backend: Backend;
  region: string;
  source: Source;
  measure: Measure;
}

/**
 * Every objective's alerts on each backend it judges, in every region that
 * backend runs in: `judge` turns the region's monitored source (by
 * `<function or model key>/<region>`, absent where the cloud keeps no numbers)
 * into the measure to alarm on, or the reason it cannot; each alert's reasons
 * are listed once.
 */
export function judgeAlerts<Source, Measure>(
  spec: SpecV1,
  monitored: ReadonlyMap<string, Source>,
  judge: (alert: AlertDefinition, source: Source | undefined, region: string) => Measure | { unobserved: string },
): { targets: Array<JudgedAlert<Source, Measure>>; unobserved: Unobserved[] } {
  const targets: Array<JudgedAlert<Source, Measure>> = [];
  const unobserved: Unobserved[] = [];
  for (const alert of alertDefinitions(spec)) {
    const reasons = new Set<string>();
    for (const backend of judgedBackends(alert)) {
      const regions = backend.kind === "function" ? spec.functions[backend.name].regions : spec.models[backend.key].regions;
      for (const region of regions) {
        const source = monitored.get(`${backendKey(backend)}/${region}`);
        const measure = judge(alert, source, region);
        if (typeof measure === "object" && measure !== null && "unobserved" in measure) reasons.add(measure.unobserved);
        else targets.push({ alert, backend, region, source: source!, measure: measure as Measure });
      }
    }
    for (const reason of reasons) unobserved.push({ objective: alert.objective, name: alert.name, reason });
  }
  return { targets, unobserved };
}
