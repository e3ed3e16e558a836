/**
 * Idempotency keys for asynchronous submissions, with the semantics of the
 * IETF draft (draft-ietf-httpapi-idempotency-key-header): a retried
 * submission with the same key and the same payload gets the id the first
 * one got instead of enqueueing again; the same key with another payload is
 * refused (422); while the first request with a key is still enqueueing, a
 * second one is told so (409). Keys are scoped to the tenant and the route,
 * so tenants never see each other's, and expire with the route's retention.
 *
 * The record lives in the gateway's Redis when it has one (shared by every
 * instance: `SET NX` makes the claim atomic), in memory otherwise.
 */
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import { LRUCache } from "lru-cache";
import { ServingError } from "../../runtime/contract";

/** The longest key accepted; the draft leaves the length to the server. */
export const MAX_KEY_LENGTH = 255;

/** Keys remembered at most without Redis. */
const MAX_MEMORY_KEYS = 100_000;

/** What a claim found. */
export type Claim =
  /** The key is new: enqueue `id`, then confirm (or release on failure). */
  | { kind: "new" }
  /** The key was used with the same payload: answer its id. */
  | { kind: "existing"; id: string }
  /** The key was used with another payload. */
  | { kind: "mismatch" }
  /** The first request with the key is still enqueueing. */
  | { kind: "in-flight" };

interface Stored {
  id: string;
  fingerprint: string;
  submitted: boolean;
}

/**
 * The key a request names in `Idempotency-Key`: an sf-string (`"…"`, as the
 * draft writes it) or the bare token many clients send; undefined without the
 * header. Throws INVALID_INPUT for an empty, over-long or non-printable key.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(",") : header;
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(raw.trim());
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, "$1") : raw.trim();
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key))
    throw new ServingError("INVALID_INPUT", `Idempotency-Key must be 1-${MAX_KEY_LENGTH} printable ASCII characters, e.g. "4f9c0e2a-…"`);
  return key;
}

/** The payload's fingerprint: a digest of its body. */
export const fingerprintOf = (body: Buffer): string => createHash("sha256").update(body).digest("hex");

/** Idempotency records, in Redis or in memory. */
export class IdempotencyStore {
  private readonly memory = new LRUCache<string, Stored>({ max: MAX_MEMORY_KEYS });

  constructor(private readonly redis?: Redis) {}

  /** Claims `key` of `tenant` on `route` for a submission of `fingerprint` that would be `id`, for `ttlMs`. */
  async claim(tenant: string, route: string, key: string, fingerprint: string, id: string, ttlMs: number, retried = false): Promise<Claim> {
    const name = storeKey(tenant, route, key);
    const fresh: Stored = { id, fingerprint, submitted: false };
    let found: Stored | undefined;
    if (this.redis) {
      const claimed = await this.command(() => this.redis!.set(name, JSON.stringify(fresh), "PX", Math.ceil(ttlMs), "NX"));
      if (claimed === "OK") return { kind: "new" };
      const raw = await this.command(() => this.redis!.get(name));
      // Gone between the two commands (expired or released): claim once more.
      if (raw === null && !retried) return this.claim(tenant, route, key, fingerprint, id, ttlMs, true);
      if (raw === null) return { kind: "in-flight" };
      found = JSON.parse(raw) as Stored;
    } else {
      found = this.memory.get(name);
      if (!found) {
        this.memory.set(name, fresh, { ttl: Math.ceil(ttlMs) });
        return { kind: "new" };
      }
    }
    if (found.fingerprint !== fingerprint) return { kind: "mismatch" };
    return found.submitted ? { kind: "existing", id: found.id } : { kind: "in-flight" };
  }

  /** Marks the claim submitted: later requests with the key get its id. */
  async confirm(tenant: string, route: string, key: string, fingerprint: string, id: string, ttlMs: number): Promise<void> {
    const name = storeKey(tenant, route, key);
    const stored: Stored = { id, fingerprint, submitted: true };
    if (this.redis) await this.command(() => this.redis!.set(name, JSON.stringify(stored), "PX", Math.ceil(ttlMs)));
    else this.memory.set(name, stored, { ttl: Math.ceil(ttlMs) });
  }

  /** Drops a claim whose submission failed, so a retry can enqueue. */
  async release(tenant: string, route: string, key: string): Promise<void> {
    const name = storeKey(tenant, route, key);
    if (this.redis) await this.command(() => this.redis!.del(name));
    else this.memory.delete(name);
  }

  private async command<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw Object.assign(
        new ServingError("QUEUE_UNAVAILABLE", "idempotency keys cannot be checked right now; retry shortly", { "retry-after": "1" }),
        {
          cause: error,
        },
      );
    }
  }
}

/** The Redis key of an idempotency record: the parts hashed, so a key's bytes never shape the store's keys. */
function storeKey(tenant: string, route: string, key: string): string {
  return `cl:idempotency:${createHash("sha256").update(`${tenant}\n${route}\n${key}`).digest("hex")}`;
}
