/**
 * Asynchronous entries: the functions and model versions whose calls wait in
 * a queue. A route is asynchronous when it says so, or when it calls a
 * function that does; every function or model version such a route reaches
 * has one queue, in one region, with one set of settings. Providers place
 * those queues, the gateway submits to them and the runtime works them, all
 * from this one derivation.
 */
import type { AsyncSpec, RouteSpec, SpecV1 } from "./schema";
import { toMilliseconds } from "./units";

/** One function or model version whose jobs wait in a queue. */
export interface AsyncEntry {
  kind: "function" | "model";
  /** The function's name or the model version's key (`name@version`). */
  name: string;
  /** The region whose workers run its jobs (see asyncHome). */
  region: string;
  /** The settings of the first route (or the function) that made it asynchronous. */
  settings: AsyncSpec;
  /** Keys of the routes that submit to it, sorted. */
  routes: string[];
}

/** The asynchronous settings of route `key`: its own, else its function's; undefined for a synchronous route. */
export function routeAsync(spec: SpecV1, key: string): AsyncSpec | undefined {
  const route: RouteSpec | undefined = spec.routes[key];
  if (!route) return undefined;
  if (route.async) return route.async;
  return route.target.kind === "function" ? spec.functions[route.target.name]?.async : undefined;
}

/** The function name, or each model version key, that route `route` reaches. */
export function routeEntries(route: RouteSpec): Array<{ kind: "function" | "model"; name: string }> {
  const target = route.target;
  if (target.kind === "function") return [{ kind: "function", name: target.name }];
  return Object.keys(target.weights).map((version) => ({ kind: "model" as const, name: `${target.name}@${version}` }));
}

/**
 * Where an entry's jobs run: its first central region, else its first region.
 * Asynchronous work does not wait on a client, so it goes where the capacity
 * is rather than to the client's nearest edge.
 */
export function asyncHome(spec: SpecV1, regions: readonly string[]): string | undefined {
  return regions.find((region) => spec.regions[region]?.kind === "central") ?? regions[0];
}

/** The entry key of a function or model version, as `asyncEntries` keys them. */
export const asyncEntryKey = (kind: "function" | "model", name: string): string => `${kind}:${name}`;

/**
 * Every asynchronous entry of a spec, by `asyncEntryKey`: each function
 * declared asynchronous, and each function or model version an asynchronous
 * route reaches. Entries whose target is not declared (validation reports
 * those) are left out.
 */
export function asyncEntries(spec: SpecV1): Map<string, AsyncEntry> {
  const found = new Map<string, AsyncEntry>();
  const add = (kind: "function" | "model", name: string, settings: AsyncSpec, route?: string) => {
    const key = asyncEntryKey(kind, name);
    let entry = found.get(key);
    if (!entry) {
      const regions = kind === "function" ? spec.functions[name]?.regions : spec.models[name]?.regions;
      const region = regions && asyncHome(spec, regions);
      if (!region) return;
      entry = { kind, name, region, settings, routes: [] };
      found.set(key, entry);
    }
    if (route) entry.routes.push(route);
  };
  for (const [name, fn] of Object.entries(spec.functions)) if (fn.async) add("function", name, fn.async);
  for (const key of Object.keys(spec.routes).sort()) {
    const settings = routeAsync(spec, key);
    if (settings) for (const entry of routeEntries(spec.routes[key])) add(entry.kind, entry.name, settings, key);
  }
  return found;
}

/**
 * The wait before the retry that follows failed attempt number `failed`
 * (1-based): `delay` each time (`fixed`), or `delay × 2^(failed-1)`
 * (`exponential`), the formula BullMQ uses, so every queue waits the same.
 */
export function retryDelayMs(settings: AsyncSpec, failed: number): number {
  const delay = toMilliseconds(settings.backoff.delay);
  return settings.backoff.strategy === "fixed" ? delay : Math.round(delay * 2 ** Math.max(0, failed - 1));
}
