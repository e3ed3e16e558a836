/**
 * Asynchronous routes and functions: settings inside the chosen target's
 * queue limits (or every target's loosest), a timeout the function can keep,
 * submissions by POST only and never cached, one set of settings per queue,
 * and model versions queued only where a worker can run them.
 */
import { asyncEntries, asyncEntryKey, routeAsync, routeEntries } from "../async";
import { canonicalize } from "../canonical";
import type { AsyncSpec, SpecV1 } from "../schema";
import { ASYNC_LIMITS, TARGETS, type AsyncLimits, type Range, type Target } from "../targets";
import { toSeconds } from "../units";
import { entries, type Report, type Rule } from "./report";

const loosest = (pick: (limits: AsyncLimits) => Range): Range => ({
  min: Math.min(...TARGETS.map((t) => pick(ASYNC_LIMITS[t]).min)),
  max: Math.max(...TARGETS.map((t) => pick(ASYNC_LIMITS[t]).max)),
});

const LOOSEST: AsyncLimits = {
  retries: loosest((l) => l.retries),
  retentionSeconds: loosest((l) => l.retentionSeconds),
  backoffSeconds: loosest((l) => l.backoffSeconds),
  source: "every target",
};

/** Targets whose asynchronous workers are the entry's own pods, which serve model versions as well as functions. */
const MODEL_QUEUE_TARGETS: readonly Target[] = ["kubernetes"];

const inRange = (value: number, range: Range) => Number.isFinite(value) && value >= range.min && value <= range.max;
const seconds = (value: number) =>
  value >= 86_400 ? `${value / 86_400} days` : value >= 60 ? `${value / 60} minutes` : `${value} seconds`;

/** Checks one settings object at `base` (`routes.<key>.async` or `functions.<name>.async`). */
function checkSettings(settings: AsyncSpec, base: string, limits: AsyncLimits, functionTimeout: number | undefined, report: Report): void {
  const { retries, backoff, timeout, retention } = settings;
  if (!Number.isInteger(retries) || !inRange(retries, limits.retries))
    report(
      "CL_ASYNC_RETRIES",
      `${base}.retries`,
      `${base}.retries is ${retries}; ${limits.source} allow ${limits.retries.min}–${limits.retries.max} retries`,
      `choose a whole number of retries from ${limits.retries.min} to ${limits.retries.max}`,
    );
  if (!inRange(toSeconds(backoff.delay), limits.backoffSeconds))
    report(
      "CL_ASYNC_BACKOFF",
      `${base}.backoff.delay`,
      `${base}.backoff.delay is ${backoff.delay}; it must be above zero and at most ${seconds(limits.backoffSeconds.max)} (${limits.source})`,
      'choose a delay such as "1 second"; exponential backoff doubles it before each further retry',
    );
  const attempt = toSeconds(timeout);
  if (!(attempt > 0))
    report(
      "CL_ASYNC_TIMEOUT",
      `${base}.timeout`,
      `${base}.timeout is ${timeout}`,
      'give each attempt a timeout above zero, e.g. "30 seconds"',
    );
  else if (functionTimeout !== undefined && attempt > functionTimeout)
    report(
      "CL_ASYNC_TIMEOUT",
      `${base}.timeout`,
      `${base}.timeout is ${timeout}, longer than the function's own timeout (${functionTimeout} seconds), which ends every call first`,
      "lower the asynchronous timeout to the function's timeout or less, or raise the function's timeout",
    );
  if (!inRange(toSeconds(retention), limits.retentionSeconds))
    report(
      "CL_ASYNC_RETENTION",
      `${base}.retention`,
      `${base}.retention is ${retention}; ${limits.source} keep invocations from ${seconds(limits.retentionSeconds.min)} to ${seconds(limits.retentionSeconds.max)}`,
      `choose a retention from ${seconds(limits.retentionSeconds.min)} to ${seconds(limits.retentionSeconds.max)}, e.g. "1 day"`,
    );
}

/** The timeout (seconds) of the function a route calls, if it calls one. */
function functionTimeoutOf(spec: SpecV1, name: string): number | undefined {
  const fn = spec.functions[name];
  return fn ? toSeconds(fn.timeout) : undefined;
}

/** Where an entry's settings were declared: on its function, else on its first asynchronous route. */
function settingsSource(spec: SpecV1, kind: "function" | "model", name: string, firstRoute: string | undefined): string {
  return kind === "function" && spec.functions[name]?.async ? `functions.${name}.async` : `routes.${firstRoute}`;
}

/** Checks asynchronous settings, routes and entries. */
export const asyncRule: Rule = (spec, context, report) => {
  const limits = context.target ? ASYNC_LIMITS[context.target] : LOOSEST;
  for (const [name, fn] of entries(spec.functions))
    if (fn.async) checkSettings(fn.async, `functions.${name}.async`, limits, toSeconds(fn.timeout), report);
  const queued = asyncEntries(spec);
  for (const [key, route] of entries(spec.routes)) {
    const settings = routeAsync(spec, key);
    if (!settings) continue;
    const base = `routes.${key}`;
    if (route.async)
      checkSettings(
        route.async,
        `${base}.async`,
        limits,
        route.target.kind === "function" ? functionTimeoutOf(spec, route.target.name) : undefined,
        report,
      );
    if (!key.startsWith("POST "))
      report(
        "CL_ASYNC_METHOD",
        base,
        `${key} is asynchronous, but only POST submits an invocation (GET /v1/invocations/{id} reads it back)`,
        route.async
          ? `make it "POST ${key.slice(key.indexOf(" ") + 1)}"`
          : "give the function a POST route, or declare async on its routes instead",
      );
    if (route.cache)
      report(
        "CL_ASYNC_CACHE",
        `${base}.cache`,
        `${key} is asynchronous and cached; each submission is a new invocation, so there is no response to cache`,
        "remove the cache from the route",
      );
    for (const entry of routeEntries(route)) {
      const owner = queued.get(asyncEntryKey(entry.kind, entry.name));
      if (owner && JSON.stringify(canonicalize(owner.settings)) !== JSON.stringify(canonicalize(settings)))
        report(
          "CL_ASYNC_CONFLICT",
          route.async ? `${base}.async` : base,
          `${key} queues ${entry.kind} ${entry.name} with other asynchronous settings than ${settingsSource(spec, owner.kind, owner.name, owner.routes[0])}; an entry has one queue, with one set of settings`,
          entry.kind === "function"
            ? `declare async once, on functions.${entry.name}, or give every asynchronous route to it the same settings`
            : `give every asynchronous route to ${entry.name} the same settings`,
        );
    }
    if (route.target.kind === "model" && context.target && !MODEL_QUEUE_TARGETS.includes(context.target))
      report(
        "CL_ASYNC_TARGET",
        `${base}.async`,
        `${key} queues model ${route.target.name}, but on ${context.target} asynchronous jobs run in functions (Lambda or Function Compute), not on model servers`,
        `declare a function that calls ${route.target.name} and make that function's route asynchronous`,
      );
  }
};
