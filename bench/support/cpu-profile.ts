/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and says where the time went,
 * per request: self time by package or file, and inclusive time by function
 * (a function's own time plus everything it called, counted once per sample
 * even when it recurses). Async functions resumed after an `await` appear as
 * their own roots, so a stage's inclusive time covers each of its resumptions.
 *
 *   npx tsx bench/support/cpu-profile.ts <file.cpuprofile> [requests] [top] [CPU µs per request]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where one frame of a sampled stack runs. */
export interface CallFrame {
  functionName: string;
  url: string;
}

/** Names the part of a program a sample's stack (leaf first) belongs to, e.g. a request's stage. */
export type Classifier = (stack: readonly CallFrame[]) => string;

/** One line of a summary: a name and its time in µs per request. */
export interface Cost {
  name: string;
  usPerRequest: number;
  share: number;
}

/** What a profile says, per request. */
export interface ProfileSummary {
  /** Busy time (not idle) per request, µs. */
  busyUsPerRequest: number;
  /** True when the figures are scaled to the process's CPU time, false when they are the profile's sampled (wall-clock) time. */
  scaledToCpu: boolean;
  /** Idle time's share of the profile: near zero means the process was saturated. */
  idleShare: number;
  /** Self time by package (node_modules/<pkg>), project file, or Node's own (node:…, native). */
  byPlace: Cost[];
  /** Inclusive time by place: samples with a frame of that package or file anywhere on their stack (a stage's file holds its whole cost). */
  byPlaceInclusive: Cost[];
  /** Inclusive time by function and file. */
  byFunction: Cost[];
  /** Time by the classifier's parts (each sample in one), when given one. */
  byPart: Cost[];
}

const PROJECT = /\/(gateway|runtime|sdk|cli|bench)\/([^?]+)$/;

/** Where a frame's code lives: a package, a project file, Node's internals, or V8's own bookkeeping. */
export function placeOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith("node:")) return url.replace(/^node:internal\/(deps\/)?/, "node:").replace(/\/.*$/, "");
  const own = PROJECT.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const place = placeOf(url, functionName);
  return `${functionName || "(anonymous)"} ${place}${url ? `:${lineNumber + 1}` : ""}`;
}

function sorted(totals: Map<string, number>, busy: number, requests: number): Cost[] {
  return [...totals]
    .map(([name, us]) => ({ name, usPerRequest: us / requests, share: us / busy }))
    .sort((a, b) => b.usPerRequest - a.usPerRequest);
}

/**
 * Summarises `profile` over `requests` requests served while it was taken.
 * The profiler samples by wall clock, so time the process spent preempted (a
 * busy machine) lands on whatever ran before it: each sample is capped at four
 * sampling intervals, and given the process's own CPU time per request
 * (`cpuUsPerRequest`, from /proc), every figure is scaled to it, which keeps
 * each entry's share and drops the time spent off the CPU.
 */
export function summarise(profile: CpuProfile, requests: number, cpuUsPerRequest?: number, classify?: Classifier): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // A sample's time is the wall clock since the one before: a process preempted for 100 ms puts all of it on one
  // frame (often a trivial one). Capped at a few sampling intervals, a sample holds no more than the CPU could give it.
  const deltas = [...profile.timeDeltas].sort((a, b) => a - b);
  const cap = 4 * (deltas[Math.floor(deltas.length / 2)] ?? 0) || Infinity;
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++)
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + Math.min(cap, profile.timeDeltas[i] ?? 0));
  // Stopping the profiler (serializing it through node:inspector) is no request's cost.
  const profiler = new Map<number, boolean>();
  const underProfiler = (id: number): boolean => {
    let known = profiler.get(id);
    if (known === undefined) {
      const up = parent.get(id);
      known = byId.get(id)!.callFrame.url === "node:inspector" || (up !== undefined && underProfiler(up));
      profiler.set(id, known);
    }
    return known;
  };
  let idle = 0;
  let total = 0;
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byPlaceInclusive = new Map<string, number>();
  const byPart = new Map<string, number>();
  for (const [id, us] of self) {
    total += us;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    if (underProfiler(id)) {
      total -= us;
      continue;
    }
    const place = placeOf(node.callFrame.url, node.callFrame.functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const seen = new Set<string>();
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      stack.push(frame.callFrame);
      for (const name of [frameName(frame), `@${placeOf(frame.callFrame.url, frame.callFrame.functionName)}`]) {
        if (seen.has(name)) continue;
        seen.add(name);
        const totals = name.startsWith("@") ? byPlaceInclusive : byFunction;
        const key = name.startsWith("@") ? name.slice(1) : name;
        totals.set(key, (totals.get(key) ?? 0) + us);
      }
    }
    if (classify) {
      const part = classify(stack);
      byPart.set(part, (byPart.get(part) ?? 0) + us);
    }
  }
  const busy = total - idle;
  // Per request, in µs of the process's CPU time when it is known, else of the profile's sampled time.
  const perRequest = cpuUsPerRequest === undefined ? requests : busy / cpuUsPerRequest;
  return {
    busyUsPerRequest: busy / perRequest,
    scaledToCpu: cpuUsPerRequest !== undefined,
    idleShare: total > 0 ? idle / total : 0,
    byPlace: sorted(byPlace, busy, perRequest),
    byPlaceInclusive: sorted(byPlaceInclusive, busy, perRequest).filter((cost) => !cost.name.startsWith("(root)")),
    byFunction: sorted(byFunction, busy, perRequest).filter((cost) => !cost.name.startsWith("(root)")),
    byPart: sorted(byPart, busy, perRequest),
  };
}

/** The summary as text: the `top` entries of each table. */
export function formatSummary(summary: ProfileSummary, top = 40): string {
  const rows = (costs: Cost[]) =>
    costs
      .slice(0, top)
      .map((cost) => `${cost.usPerRequest.toFixed(2).padStart(8)} µs ${(cost.share * 100).toFixed(1).padStart(5)} %  ${cost.name}`)
      .join("\n");
  return [
    `busy ${summary.busyUsPerRequest.toFixed(1)} µs per request (${summary.scaledToCpu ? "the process's CPU time" : "sampled time"}), idle ${(summary.idleShare * 100).toFixed(1)} % of the profile`,
    ...(summary.byPart.length > 0 ? ["\nby part:", rows(summary.byPart)] : []),
    "\nself time by place:",
    rows(summary.byPlace),
    "\ninclusive time by place (a stage's file holds everything it calls):",
    rows(summary.byPlaceInclusive),
    "\ninclusive time by function:",
    rows(summary.byFunction),
  ].join("\n");
}

if (require.main === module) {
  const [file, requests = "1", top = "40", cpuUs] = process.argv.slice(2);
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  console.log(formatSummary(summarise(profile, Number(requests), cpuUs === undefined ? undefined : Number(cpuUs)), Number(top)));
}
