/**
 * The app graph: every entry of a Spec v1 document as a node (regions, GPU
 * pools, scaling policies, model versions, functions, routes) and the
 * relations between them as edges. `cloudloom graph` draws it; the gateway's
 * dashboard draws the same graph with live numbers on it. Pure: built from
 * the spec alone, plus optional notes saying what each entry becomes on a
 * target (the providers' descriptions supply them).
 */
import type { GpuPoolSpec, ModelSpec, FunctionSpec, RegionSpec, RouteSpec, ScalingPolicySpec, SpecV1 } from "../spec/schema";

/** A spec section whose entries become nodes (the graph lists them in this order). */
export type GraphSection = "routes" | "functions" | "models" | "gpuPools" | "scalingPolicies" | "regions";

/** What a node stands for: one entry of one section. */
export type NodeKind = "route" | "function" | "model" | "gpuPool" | "scalingPolicy" | "region";

const KIND_OF: Record<GraphSection, NodeKind> = {
  routes: "route",
  functions: "function",
  models: "model",
  gpuPools: "gpuPool",
  scalingPolicies: "scalingPolicy",
  regions: "region",
};

/** Per section, per entry name (route key, model key), one line saying what the entry becomes on a target. */
export type EntryNotes = Partial<Record<GraphSection, Record<string, string>>>;

/** One node: an entry, its title and the facts the spec states about it. */
export interface GraphNode {
  /** `<kind>:<entry>`, unique in the graph, e.g. `function:classify`, `model:intent@1`. */
  id: string;
  kind: NodeKind;
  /** The entry's name in its section (route key, model key). */
  entry: string;
  title: string;
  /** Short lines of what the spec declares. */
  details: string[];
  /** What the entry becomes on the graph's target, when one was given. */
  becomes?: string;
}

/** What an edge says. */
export type EdgeKind = "serves" | "calls" | "runs-in" | "runs-on" | "scaled-by";

/** A directed relation between two nodes. */
export interface GraphEdge {
  id: string;
  kind: EdgeKind;
  from: string;
  to: string;
  /** A short label, e.g. a model version's traffic weight. */
  label?: string;
}

/** The app graph. */
export interface AppGraph {
  app: string;
  /** The target the notes describe, if any. */
  target?: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The id of the node for `entry` of `section`. */
export function nodeId(section: GraphSection, entry: string): string {
  return `${KIND_OF[section]}:${entry}`;
}

const byName = <T>(record: Record<string, T>): Array<[string, T]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function routeDetails(route: RouteSpec): string[] {
  const details = [`auth ${route.auth}`];
  const limit = route.rateLimit;
  if (limit) details.push(`limit ${limit.requests} per ${limit.per}, burst ${limit.burst}, by ${limit.key}`);
  if (route.cache)
    details.push(`cache ${route.cache.ttl}${route.cache.varyHeaders.length ? `, vary ${route.cache.varyHeaders.join(" ")}` : ""}`);
  if (route.target.kind === "model" && route.target.strategy !== "single")
    details.push(`${route.target.strategy}${route.target.sticky ? ", sticky" : ""}`);
  return details;
}

function functionDetails(fn: FunctionSpec): string[] {
  return [`${fn.memory}, ${fn.timeout}, ${fn.concurrency} at once`, `handler ${fn.handler.module}`];
}

function modelDetails(model: ModelSpec): string[] {
  const { maxBatchSize, maxDelay, maxQueue } = model.batching;
  return [
    `${model.pool ? "GPU" : "CPU"}, batch ${maxBatchSize} within ${maxDelay}, queue ${maxQueue}`,
    `onnx ${model.artifact.path} (sha256 ${model.artifact.sha256.slice(0, 12)})`,
  ];
}

function poolDetails(pool: GpuPoolSpec): string[] {
  const platform = pool.platform ? `, ${pool.platform}` : "";
  return [
    `${pool.accelerator} x${pool.gpusPerInstance}, ${pool.gpuMemory}`,
    `${pool.minSize}-${pool.maxSize} instances, ${pool.capacity}${platform}`,
  ];
}

function policyDetails(policy: ScalingPolicySpec): string[] {
  const target = [
    policy.targetConcurrency !== undefined ? `${policy.targetConcurrency} in flight each` : "",
    policy.targetUtilization !== undefined ? `${policy.targetUtilization} % utilization` : "",
  ].filter(Boolean);
  const details = [`${policy.minInstances}-${policy.maxInstances} instances${target.length ? `, ${target.join(", ")}` : ""}`];
  if (policy.scaleToZero) details.push(`to zero after ${policy.scaleToZero.idleWindow} idle`);
  if (policy.schedules.length > 0) details.push(`${policy.schedules.length} scheduled floor(s)`);
  if (policy.prewarm) details.push(`pre-warm ${policy.prewarm.leadTime} ahead`);
  return details;
}

function regionDetails(region: RegionSpec): string[] {
  const details: string[] = [region.kind];
  if (region.localities.length > 0) details[0] += `, serves ${region.localities.join(" ")}`;
  if (region.latencyBudget) details.push(`latency budget ${region.latencyBudget}`);
  return details;
}

/**
 * The graph of `spec`. Nodes and edges come in a fixed order (section, then
 * entry name), so the same spec always gives the same graph. `notes` (from a
 * target's description) add what each entry becomes there.
 */
export function appGraph(spec: SpecV1, notes: EntryNotes = {}, target?: string): AppGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const node = (section: GraphSection, entry: string, title: string, details: string[]) => {
    const becomes = notes[section]?.[entry];
    nodes.push({ id: nodeId(section, entry), kind: KIND_OF[section], entry, title, details, ...(becomes ? { becomes } : {}) });
  };
  const edge = (kind: EdgeKind, from: string, to: string, label?: string) =>
    edges.push({ id: `${kind}:${from}->${to}`, kind, from, to, ...(label ? { label } : {}) });
  const placement = (from: string, regions: readonly string[], scaling: string | undefined) => {
    for (const region of [...regions].sort()) edge("runs-in", from, nodeId("regions", region));
    if (scaling) edge("scaled-by", from, nodeId("scalingPolicies", scaling));
  };

  for (const [key, route] of byName(spec.routes)) {
    node("routes", key, key, routeDetails(route));
    const from = nodeId("routes", key);
    if (route.target.kind === "function") edge("serves", from, nodeId("functions", route.target.name));
    else
      for (const [version, weight] of byName(route.target.weights))
        edge("serves", from, nodeId("models", `${route.target.name}@${version}`), `${weight} %`);
  }
  for (const [name, fn] of byName(spec.functions)) {
    node("functions", name, name, functionDetails(fn));
    const from = nodeId("functions", name);
    for (const model of [...fn.models].sort()) edge("calls", from, nodeId("models", model));
    placement(from, fn.regions, fn.scaling);
  }
  for (const [key, model] of byName(spec.models)) {
    node("models", key, key, modelDetails(model));
    const from = nodeId("models", key);
    if (model.pool) edge("runs-on", from, nodeId("gpuPools", model.pool));
    placement(from, model.regions, model.scaling);
  }
  for (const [name, pool] of byName(spec.gpuPools)) {
    node("gpuPools", name, name, poolDetails(pool));
    for (const region of [...pool.regions].sort()) edge("runs-in", nodeId("gpuPools", name), nodeId("regions", region));
  }
  for (const [name, policy] of byName(spec.scalingPolicies)) node("scalingPolicies", name, name, policyDetails(policy));
  for (const [name, region] of byName(spec.regions)) node("regions", name, name, regionDetails(region));
  return { app: spec.app, ...(target ? { target } : {}), nodes, edges };
}
