/**
 * Asynchronous routes and functions: settings inside the chosen target's
 * queue limits (or every target's loosest), a timeout the function (or a
 * model's job worker) can keep, submissions by POST only and never cached,
 * one set of settings per queue, and model versions queued only where the
 * target has a queue for the place that serves them.
 */
import { asyncEntries, asyncEntryKey, routeAsync, routeEntries, type AsyncEntry } from "../async";
import { canonicalize } from "../canonical";
import { resolveEdgeSite } from "../edge-sites";
import type { AsyncSpec, SpecV1 } from "../schema";
import {
  ASYNC_LIMITS,
  awsModelWorkerTimeoutSeconds,
  FUNCTION_LIMITS,
  poolPlatform,
  TARGETS,
  type AsyncLimits,
  type Range,
  type Target,
} from "../targets";
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

/**
 * The edge site where `target` runs what `region` holds, when no queue of
 * that target reaches it: an ENS node's instances on Alibaba Cloud, a
 * Wavelength Zone's nodes on AWS (reached only through the site's own
 * gateway, and with no Lambda or FC function there to work a queue).
 */
function edgeWithoutQueue(spec: SpecV1, region: string, target: Target): string | undefined {
  const placement = spec.regions[region]?.placement;
  if (!placement || target === "kubernetes") return undefined;
  if (target === "alicloud") {
    const site = resolveEdgeSite(placement, "alicloud");
    return site ? `the instances of ENS node ${site.id}` : undefined;
  }
  const site = resolveEdgeSite(placement, "aws");
  return site?.kind === "wavelength" ? `the nodes of Wavelength Zone ${site.id}` : undefined;
}

/**
 * Where `target` serves model version `entry` in its home region when no
 * queue of that target reaches it there, else undefined: on Alibaba Cloud an
 * ACK node pool (its jobs would need a queue inside the cluster), or an edge
 * site no queue reaches (above). Kubernetes queues every model on its own pods.
 */
function unqueuedModelHost(spec: SpecV1, entry: AsyncEntry, target: Target): string | undefined {
  const model = spec.models[entry.name];
  if (!model) return undefined;
  const pool = model.pool ? spec.gpuPools[model.pool] : undefined;
  if (target === "alicloud" && pool && poolPlatform(pool, "alicloud") === "kubernetes")
    return `an ACK node pool (GPU pool ${model.pool} asks for Kubernetes)`;
  return edgeWithoutQueue(spec, entry.region, target);
}

/** Checks an asynchronous function's home on `target`: a place its queue reaches. */
function checkFunctionEntry(spec: SpecV1, entry: AsyncEntry, target: Target, report: Report): void {
  const host = edgeWithoutQueue(spec, entry.region, target);
  if (host)
    report(
      "CL_ASYNC_FUNCTION_HOST",
      settingsSource(spec, "function", entry.name, entry.routes[0]),
      `function ${entry.name} is asynchronous, and its asynchronous home region ${entry.region} runs it on ${host}, where ${target} has no queue for it`,
      `add a central region to ${entry.name}'s regions (asynchronous jobs run in the first one)`,
    );
}

/** Checks a model version's asynchronous entry on `target`: a place its queue reaches, and an attempt its job worker can keep. */
function checkModelEntry(spec: SpecV1, key: string, entry: AsyncEntry, target: Target, report: Report): void {
  const base = `routes.${key}.async`;
  const host = unqueuedModelHost(spec, entry, target);
  if (host)
    report(
      "CL_ASYNC_MODEL_HOST",
      base,
      `${key} queues model ${entry.name}, whose asynchronous home region ${entry.region} serves it on ${host}, where ${target} has no queue for it`,
      target === "alicloud" && host.startsWith("an ACK")
        ? `serve ${entry.name} from a GPU pool on Function Compute (platform "serverless"), or queue a function that calls it`
        : `add a central region to ${entry.name}'s regions (asynchronous jobs run in the first one), or queue a function that calls it`,
    );
  const attempt = toSeconds(entry.settings.timeout);
  const limit = FUNCTION_LIMITS.aws.timeoutSeconds.max;
  if (target === "aws" && attempt > 0 && awsModelWorkerTimeoutSeconds(attempt) > limit)
    report(
      "CL_ASYNC_TIMEOUT",
      `${base}.timeout`,
      `${base}.timeout is ${entry.settings.timeout}; on aws a model's attempts run in a Lambda job worker, which records each outcome within ${limit} seconds (${FUNCTION_LIMITS.aws.source})`,
      `lower the timeout to ${limit - awsModelWorkerTimeoutSeconds(0)} seconds or less`,
    );
}

/** Checks asynchronous settings, routes and entries. */
export const asyncRule: Rule = (spec, context, report) => {
  const limits = context.target ? ASYNC_LIMITS[context.target] : LOOSEST;
  for (const [name, fn] of entries(spec.functions))
    if (fn.async) checkSettings(fn.async, `functions.${name}.async`, limits, toSeconds(fn.timeout), report);
  const queued = asyncEntries(spec);
  if (context.target)
    for (const entry of queued.values()) if (entry.kind === "function") checkFunctionEntry(spec, entry, context.target, report);
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
      if (owner && entry.kind === "model" && context.target && owner.routes[0] === key)
        checkModelEntry(spec, key, owner, context.target, report);
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
  }
};
