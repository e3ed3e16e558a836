/**
 * Held and in-flight requests summed over every instance of a gateway. Each
 * instance counts its own (routing/hold.ts). With Redis, it publishes those
 * counts every `publishMs` in a hash of its own that expires unless
 * refreshed, listed in a set of instances; the demand endpoint adds the
 * other live instances' counts to its own. KEDA reads one replica (the one
 * its Service picks) and still sees a request held at any of them, a second
 * late at most. Without Redis, or while it fails, an instance answers its own
 * counts, and says how many instances it summed. Calls that function pods
 * report (demand-reports.ts) are added to the model versions they name.
 */
import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import type { DemandReports } from "./demand-reports";
import type { Demand } from "./routing/hold";

/** One target's requests in one region, as the demand endpoint answers them. */
export interface DemandCount {
  kind: "function" | "model";
  entry: string;
  region: string;
  pending: number;
  inFlight: number;
}

/** A field of an instance's hash: names and regions never hold `|`. */
const fieldOf = (d: DemandCount): string => `${d.kind}|${d.entry}|${d.region}`;

/** The demand of every instance, summed. */
export interface SummedDemand {
  counts: DemandCount[];
  /** Instances whose counts are in the sum (this one included). */
  instances: number;
}

/** One gateway instance's part in the shared count. */
export class DemandBoard {
  private readonly instance = randomUUID();
  private timer?: NodeJS.Timeout;

  constructor(
    /** This instance's own demand now. */
    private readonly own: () => readonly Demand[],
    private readonly redis: Redis | undefined,
    /** The app, whose instances share the count. */
    private readonly app: string,
    private readonly publishMs = 1_000,
    /** Calls other processes report holding or sending to the targets counted here. */
    private readonly reports?: DemandReports,
  ) {}

  /** Publishes this instance's counts now and every `publishMs`, when there is a Redis and something holds. */
  start(): void {
    if (!this.redis || this.timer) return;
    void this.publish();
    this.timer = setInterval(() => void this.publish(), this.publishMs);
    this.timer.unref();
  }

  /** Stops publishing and withdraws this instance's counts. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.redis
      ?.multi()
      .del(this.key(this.instance))
      .srem(this.instancesKey, this.instance)
      .exec()
      .catch(() => undefined);
  }

  /** This instance's counts plus those the other live instances published; its own alone when Redis fails. */
  async read(): Promise<SummedDemand> {
    const sums = new Map<string, DemandCount>();
    for (const d of this.own()) {
      const count = { kind: d.kind, entry: d.entry, region: d.region, pending: d.pending, inFlight: d.inFlight };
      sums.set(fieldOf(count), count);
    }
    let instances = 1;
    try {
      instances += await this.addOthers(sums);
    } catch {
      // A Redis that is down or slow leaves this instance's own count: the scaler still sees what it holds.
    }
    // A report counts toward a target this instance counts too (one another configuration named is left out).
    for (const d of (await this.reports?.counts()) ?? [])
      if (sums.has(fieldOf(d))) addCount(sums, fieldOf(d), `${d.pending},${d.inFlight}`);
    return { counts: [...sums.values()], instances };
  }

  /** Writes this instance's counts, refreshing their expiry; a failure is retried at the next tick. */
  async publish(): Promise<void> {
    const own = this.own();
    if (!this.redis || own.length === 0) return;
    const key = this.key(this.instance);
    const fields: string[] = [];
    for (const d of own) fields.push(fieldOf(d), `${d.pending},${d.inFlight}`);
    await this.redis
      .multi()
      .hset(key, ...fields)
      .pexpire(key, this.publishMs * 3)
      .sadd(this.instancesKey, this.instance)
      .exec()
      .catch(() => undefined);
  }

  /** Adds the other live instances' counts to `sums`; returns how many there were, and forgets those that expired. */
  private async addOthers(sums: Map<string, DemandCount>): Promise<number> {
    if (!this.redis) return 0;
    const others = (await this.redis.smembers(this.instancesKey)).filter((id) => id !== this.instance);
    if (others.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const id of others) pipeline.hgetall(this.key(id));
    const hashes = (await pipeline.exec()) ?? [];
    const expired: string[] = [];
    let live = 0;
    hashes.forEach(([error, hash], i) => {
      const fields = Object.entries((hash ?? {}) as Record<string, string>);
      if (error || fields.length === 0) {
        if (!error) expired.push(others[i]);
        return;
      }
      live++;
      for (const [field, value] of fields) addCount(sums, field, value);
    });
    if (expired.length > 0) void this.redis.srem(this.instancesKey, ...expired).catch(() => undefined);
    return live;
  }

  private get instancesKey(): string {
    return `cl:demand:${this.app}:instances`;
  }

  private key(instance: string): string {
    return `cl:demand:${this.app}:${instance}`;
  }
}

/** Adds one published field (`kind|entry|region` = `pending,inFlight`) to `sums`; a malformed one is ignored. */
function addCount(sums: Map<string, DemandCount>, field: string, value: string): void {
  const [kind, entry, region] = field.split("|");
  const [pending, inFlight] = value.split(",").map(Number);
  if ((kind !== "function" && kind !== "model") || !entry || !region || !(pending >= 0) || !(inFlight >= 0)) return;
  const sum = sums.get(field) ?? { kind, entry, region, pending: 0, inFlight: 0 };
  sum.pending += pending;
  sum.inFlight += inFlight;
  sums.set(field, sum);
}
