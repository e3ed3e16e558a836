/**
 * Calls to models that other processes hold and send (function pods, see
 * runtime/model-call-demand.ts), as they report them to DEMAND_REPORT_PATH.
 * Each report replaces its source's earlier counts and expires
 * DEMAND_REPORT.ttlMs after it arrived unless restated, so a pod that dies
 * or stops calling stops counting. At most DEMAND_REPORT.maxSources sources
 * count at once; a new one beyond them is refused until others expire.
 *
 * With Redis every report is kept in one hash of the app's, field per source
 * (its expiry and counts), so every gateway instance sums the same reports
 * whichever instance took them, and a source whose reports land on different
 * instances counts once. Every report is also kept in memory: without Redis,
 * or while it fails, an instance sums the reports it took itself.
 */
import type Redis from "ioredis";
import { z } from "zod";
import { DEMAND_REPORT, ServingError, type DemandReport } from "../runtime/contract";
import type { DemandCount } from "./demand-board";

/** A report's body, checked field by field. */
const ReportSchema = z
  .object({
    source: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 . _ -"),
    calls: z
      .array(
        z
          .object({
            model: z.string().min(1).max(256),
            region: z.string().min(1).max(128),
            pending: z.number().int().min(0),
            inFlight: z.number().int().min(0).max(DEMAND_REPORT.maxInFlight),
          })
          .strict(),
      )
      .max(DEMAND_REPORT.maxCalls),
  })
  .strict();

/** The model versions a report may name, by `model|region`, with the most calls one process may hold for each. */
export type ReportableModels = ReadonlyMap<string, { maxPending: number }>;

/** The key of a model version in a region, as ReportableModels names it. */
export const reportableKey = (model: string, region: string): string => `${model}|${region}`;

/**
 * The report `body` (parsed JSON) as counts, or INVALID_INPUT naming what is
 * wrong: a field out of shape or bounds, a model version and region that
 * holds no requests here, or more held calls than its hold lets one process hold.
 */
export function parseReport(body: unknown, models: ReportableModels): { source: string; counts: DemandCount[] } {
  const parsed = ReportSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ServingError("INVALID_INPUT", `demand report: ${issue.path.join(".") || "body"} ${issue.message}`);
  }
  const report: DemandReport = parsed.data;
  const seen = new Set<string>();
  const counts = report.calls.map(({ model, region, pending, inFlight }, i) => {
    const key = reportableKey(model, region);
    const limits = models.get(key);
    if (!limits)
      throw new ServingError("INVALID_INPUT", `demand report: calls.${i} names no model version that holds requests in that region`);
    if (seen.has(key)) throw new ServingError("INVALID_INPUT", `demand report: calls.${i} repeats a model version and region`);
    if (pending > limits.maxPending)
      throw new ServingError("INVALID_INPUT", `demand report: calls.${i}.pending is more than the model's hold lets one caller hold`);
    seen.add(key);
    return { kind: "model" as const, entry: model, region, pending, inFlight };
  });
  return { source: report.source, counts };
}

/** One source's counts and when they stop counting (epoch ms). */
interface Stored {
  expiresAt: number;
  counts: DemandCount[];
}

/**
 * Sets a source's report in the app's hash unless that would make more than
 * ARGV[3] sources (expired ones are dropped first): 1 when set, 0 when refused.
 * A field's value is `<expiresAt>|<counts JSON>`.
 */
const STORE_REPORT = `
local key, source, value, max, ttl, now = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
if redis.call('HEXISTS', key, source) == 0 and redis.call('HLEN', key) >= max then
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if tonumber(string.match(all[i + 1], '^(%d+)')) <= now then redis.call('HDEL', key, all[i]) end
  end
  if redis.call('HLEN', key) >= max then return 0 end
end
redis.call('HSET', key, source, value)
redis.call('PEXPIRE', key, ttl)
return 1
`;

/** The reports a gateway instance took, and (with Redis) those every instance took. */
export class DemandReports {
  private readonly local = new Map<string, Stored>();

  constructor(
    private readonly redis: Redis | undefined,
    /** The app, whose instances share the reports. */
    private readonly app: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps `counts` as `source`'s calls until they expire; rejects with STORE_UNAVAILABLE (503) when maxSources others count. */
  async accept(source: string, counts: DemandCount[]): Promise<void> {
    const expiresAt = this.now() + DEMAND_REPORT.ttlMs;
    this.forgetExpired();
    if (!this.local.has(source) && this.local.size >= DEMAND_REPORT.maxSources) throw tooMany();
    this.local.set(source, { expiresAt, counts });
    if (this.redis?.status !== "ready") return;
    let stored: unknown;
    try {
      stored = await this.redis.eval(
        STORE_REPORT,
        1,
        this.key,
        source,
        `${expiresAt}|${JSON.stringify(counts)}`,
        DEMAND_REPORT.maxSources,
        DEMAND_REPORT.ttlMs,
        this.now(),
      );
    } catch {
      // Kept in this instance's memory: it still counts here, and the next report tries Redis again.
      return;
    }
    if (stored === 0) {
      this.local.delete(source);
      throw tooMany();
    }
  }

  /** Every live report's counts: every instance's from Redis, else (no Redis, or it failed) this instance's own. */
  async counts(): Promise<DemandCount[]> {
    const now = this.now();
    if (this.redis?.status === "ready") {
      try {
        return await this.shared(now);
      } catch {
        // Redis failed: the reports this instance took still count.
      }
    }
    this.forgetExpired();
    return [...this.local.values()].flatMap((stored) => stored.counts);
  }

  /** Every live report in the app's hash; expired ones are deleted. */
  private async shared(now: number): Promise<DemandCount[]> {
    const all = await this.redis!.hgetall(this.key);
    const counts: DemandCount[] = [];
    const expired: string[] = [];
    for (const [source, value] of Object.entries(all)) {
      const bar = value.indexOf("|");
      const expiresAt = Number(value.slice(0, bar));
      if (!(expiresAt > now)) {
        expired.push(source);
        continue;
      }
      try {
        counts.push(...(JSON.parse(value.slice(bar + 1)) as DemandCount[]));
      } catch {
        expired.push(source);
      }
    }
    if (expired.length > 0) void this.redis!.hdel(this.key, ...expired).catch(() => undefined);
    return counts;
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [source, stored] of this.local) if (stored.expiresAt <= now) this.local.delete(source);
  }

  private get key(): string {
    return `cl:demand:${this.app}:reports`;
  }
}

function tooMany(): ServingError {
  return new ServingError("STORE_UNAVAILABLE", `the gateway counts ${DEMAND_REPORT.maxSources} reporting callers already; retry later`, {
    "retry-after": String(Math.ceil(DEMAND_REPORT.ttlMs / 1000)),
  });
}
