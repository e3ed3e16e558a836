/**
 * Rollout state shared through Redis, so every gateway instance serves the
 * same weights and exactly one judges each step:
 * - the lease is `SET NX PX` with a random token, extended and released only
 *   by its holder (Lua compare-and-extend, compare-and-delete);
 * - the state is a hash {epoch, doc}, written by a Lua compare-and-set on the
 *   epoch (and on the lease, for the judge's writes), so a judge whose lease
 *   lapsed mid-tick, or an operator's action racing it, cannot both land;
 * - observations are per-epoch hashes every instance adds its counts into
 *   (HINCRBY), which the judge reads whole.
 */
import type Redis from "ioredis";
import { LATENCY_BUCKETS } from "./latency";
import type { Observations } from "./observations";
import { RolloutStateSchema, type RolloutState } from "./state";
import { RolloutStateError, type ObservationBatch, type RolloutStore } from "./store";

const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// KEYS: state, lease, the expected epoch's observations. ARGV: expected epoch ('' for none), new epoch, doc, lease token ('' for none).
const WRITE = `if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
if (redis.call('HGET', KEYS[1], 'epoch') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'doc', ARGV[3])
redis.call('DEL', KEYS[3])
return 1`;

/** How long an epoch's counts outlive their last addition (a step with no traffic for a day starts its count again). */
const OBSERVATIONS_TTL_MS = 86_400_000;

/** `<version>:n` (requests), `<version>:e` (errors), `<version>:b<bucket>` (latency). */
const FIELD = /^([a-z0-9.-]+):(n|e|b(\d{1,3}))$/;

/** Rollouts of app `app` in Redis. */
export class RedisRolloutStore implements RolloutStore {
  readonly kind = "redis";
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    app: string,
  ) {
    this.prefix = `cl:rollout:${app}`;
  }

  private get leaseKey(): string {
    return `${this.prefix}:lease`;
  }

  private stateKey(id: string): string {
    return `${this.prefix}:state:${id}`;
  }

  private countsKey(id: string, epoch: number): string {
    return `${this.prefix}:obs:${id}:${epoch}`;
  }

  async read(id: string): Promise<RolloutState | undefined> {
    const [epoch, doc] = await this.redis.hmget(this.stateKey(id), "epoch", "doc");
    if (doc === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(doc);
    } catch {
      throw new RolloutStateError(`the stored state of rollout ${id} is not JSON`);
    }
    const state = RolloutStateSchema.safeParse(parsed);
    if (!state.success || String(state.data.epoch) !== epoch)
      throw new RolloutStateError(`the stored state of rollout ${id} does not match the rollout state's schema`);
    return state.data;
  }

  async write(id: string, expected: number | undefined, next: RolloutState, lease?: string): Promise<boolean> {
    const keys = [this.stateKey(id), this.leaseKey, this.countsKey(id, expected ?? 0)];
    const args = [expected === undefined ? "" : String(expected), String(next.epoch), JSON.stringify(next), lease ?? ""];
    return (await this.redis.eval(WRITE, keys.length, ...keys, ...args)) === 1;
  }

  async record(batches: readonly ObservationBatch[]): Promise<void> {
    if (batches.length === 0) return;
    const multi = this.redis.multi();
    for (const { id, epoch, observations } of batches) {
      const key = this.countsKey(id, epoch);
      for (const [version, counts] of Object.entries(observations)) {
        multi.hincrby(key, `${version}:n`, counts.requests);
        if (counts.errors > 0) multi.hincrby(key, `${version}:e`, counts.errors);
        for (const [bucket, count] of Object.entries(counts.latency)) multi.hincrby(key, `${version}:b${bucket}`, count);
      }
      multi.pexpire(key, OBSERVATIONS_TTL_MS);
    }
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error("the observations' transaction was discarded");
  }

  async observations(id: string, epoch: number): Promise<Observations> {
    const fields = await this.redis.hgetall(this.countsKey(id, epoch));
    const observations: Observations = {};
    for (const [field, raw] of Object.entries(fields)) {
      const match = FIELD.exec(field);
      const value = Number(raw);
      // Anything else in the hash (a stray field, a negative or huge count) is not counted.
      if (!match || !Number.isSafeInteger(value) || value < 0 || Number(match[3] ?? 0) >= LATENCY_BUCKETS) continue;
      const counts = (observations[match[1]] ??= { requests: 0, errors: 0, latency: {} });
      if (match[2] === "n") counts.requests = value;
      else if (match[2] === "e") counts.errors = value;
      else counts.latency[Number(match[3])] = value;
    }
    return observations;
  }

  async hold(token: string, ttlMs: number): Promise<boolean> {
    if ((await this.redis.eval(EXTEND, 1, this.leaseKey, token, ttlMs)) === 1) return true;
    return (await this.redis.set(this.leaseKey, token, "PX", ttlMs, "NX")) === "OK";
  }

  async release(token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.leaseKey, token);
  }
}
