/**
 * The response cache. Keys are derived by the server: tenant, route, method,
 * a hash of the normalized body, and the route's declared vary headers. A
 * client cannot choose another tenant's entry. Upstream Cache-Control is
 * honored through http-cache-semantics (no-store, private, max-age); responses
 * with Set-Cookie or a non-2xx status are never stored. Concurrent misses on
 * one key make one upstream call (lru-cache's fetchMethod). The L1 lives in
 * memory; an optional L2 in Redis is shared by instances.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import CachePolicy from "http-cache-semantics";
import type Redis from "ioredis";
import { LRUCache } from "lru-cache";
import { canonicalize } from "../sdk/spec";

/** A response as the cache stores and replays it. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** When it was produced (ms since epoch), for the Age header. */
  storedAt: number;
  /** False when upstream or the status forbids storing it. */
  storable: boolean;
  /** Longest time upstream allows it to be reused (Infinity when upstream says nothing). */
  maxTtlMs: number;
}

/** Produces a response on a miss. */
export type Loader = () => Promise<StoredResponse>;

/** Hash of the body; JSON bodies are canonicalized first so key order does not matter. */
function bodyHash(body: Buffer, contentType: string | undefined): string {
  let normalized: Buffer | string = body;
  if (contentType?.includes("json") && body.length > 0) {
    try {
      normalized = JSON.stringify(canonicalize(JSON.parse(body.toString("utf8"))));
    } catch {
      normalized = body;
    }
  }
  return createHash("sha256").update(normalized).digest("base64url");
}

/** The cache key of one request. */
export function cacheKey(
  tenant: string,
  route: string,
  method: string,
  body: Buffer,
  headers: IncomingHttpHeaders,
  vary: readonly string[],
): string {
  const varied = vary.map((name) => `${name}=${String(headers[name] ?? "")}`).join("&");
  return `${tenant}|${route}|${method}|${bodyHash(body, headers["content-type"])}|${varied}`;
}

/** Whether a response may be stored, per http-cache-semantics and cloudloom's own rules. */
export function storability(status: number, responseHeaders: Record<string, string>): { storable: boolean; maxTtlMs: number } {
  if (status < 200 || status >= 300 || responseHeaders["set-cookie"] !== undefined) return { storable: false, maxTtlMs: 0 };
  // The key covers tenant, body and vary headers, so the policy is asked about the response
  // alone, as if to an anonymous GET: what matters is what upstream's Cache-Control allows.
  const policy = new CachePolicy({ method: "GET", url: "/", headers: {} }, { status, headers: responseHeaders }, { shared: true });
  if (!policy.storable()) return { storable: false, maxTtlMs: 0 };
  const directives = responseHeaders["cache-control"] ?? "";
  const explicit = /\b(s-maxage|max-age)=\d+/i.test(directives) || responseHeaders.expires !== undefined;
  if (explicit && policy.timeToLive() <= 0) return { storable: false, maxTtlMs: 0 };
  return { storable: true, maxTtlMs: explicit ? policy.timeToLive() : Number.POSITIVE_INFINITY };
}

/** The L1 (and optional L2) response cache of a gateway. */
export class ResponseCache {
  private readonly l1: LRUCache<string, StoredResponse, Loader>;

  constructor(
    maxEntries: number,
    private readonly redis?: Redis,
  ) {
    this.l1 = new LRUCache<string, StoredResponse, Loader>({
      max: maxEntries,
      ttl: 60_000,
      ttlAutopurge: false,
      fetchMethod: async (key, _stale, { context, options }) => {
        const shared = await this.readL2(key);
        if (shared) return shared;
        const fresh = await context();
        if (fresh.maxTtlMs < (options.ttl ?? Infinity)) options.ttl = Math.max(1, fresh.maxTtlMs);
        if (fresh.storable) void this.writeL2(key, fresh, options.ttl ?? 60_000);
        return fresh;
      },
    });
  }

  /**
   * The cached response for `key`, or the loader's, made once for all
   * concurrent callers. `ttlMs` is the route's TTL; upstream max-age can only
   * shorten it.
   */
  async get(key: string, ttlMs: number, load: Loader): Promise<{ response: StoredResponse; hit: boolean }> {
    const cached = this.l1.get(key);
    if (cached) return { response: cached, hit: true };
    let loaded = false;
    const response = await this.l1.fetch(key, {
      context: async () => {
        loaded = true;
        return load();
      },
      ttl: ttlMs,
    });
    if (!response!.storable) this.l1.delete(key);
    return { response: response!, hit: !loaded };
  }

  private async readL2(key: string): Promise<StoredResponse | undefined> {
    if (!this.redis || this.redis.status !== "ready") return undefined;
    try {
      const raw = await this.redis.getBuffer(`cl:cache:${key}`);
      if (!raw) return undefined;
      const { status, headers, storedAt, body } = JSON.parse(raw.toString("utf8")) as Omit<StoredResponse, "body" | "storable"> & {
        body: string;
      };
      return { status, headers, storedAt, body: Buffer.from(body, "base64"), storable: true, maxTtlMs: Number.POSITIVE_INFINITY };
    } catch {
      return undefined;
    }
  }

  private async writeL2(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    if (!this.redis || this.redis.status !== "ready" || !Number.isFinite(ttlMs)) return;
    const payload = JSON.stringify({
      status: response.status,
      headers: response.headers,
      storedAt: response.storedAt,
      body: response.body.toString("base64"),
    });
    await this.redis.set(`cl:cache:${key}`, payload, "PX", Math.max(1, Math.round(ttlMs))).catch(() => undefined);
  }
}
