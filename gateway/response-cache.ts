/**
 * The response cache. Keys are derived by the server, in two parts. The
 * primary key is the tenant, route, method, version and a hash of the content
 * type, the normalized query and the normalized body: a client cannot choose
 * another tenant's entry, and a query or version the key left out cannot be
 * replayed to requests without it. The variant is the request's values of the
 * headers the response varies on: the route's declared vary headers, the
 * backend's `Vary`, and Accept-Encoding when the response is encoded. A
 * response's Vary is only known once it arrives, so the cache remembers, per
 * primary key, the header names its last response varied on, and keys the
 * next lookup on them. A response that varies on `*` or on a header the key
 * cannot hold is not stored.
 *
 * Upstream Cache-Control is honored through http-cache-semantics (no-store,
 * private, max-age); responses with Set-Cookie or a non-2xx status are never
 * stored. Concurrent misses on one key make one upstream call (a single
 * flight of fills in progress). The L1 lives in memory (lru-cache), bounded by
 * entries and bytes; an optional L2 in Redis, shared by instances, holds the
 * same keys.
 */
import { createHash, hash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import CachePolicy from "http-cache-semantics";
import type Redis from "ioredis";
import { LRUCache } from "lru-cache";
import { ServingError } from "../runtime/contract";
import { canonicalize } from "../sdk/spec";
import { NOT_FORWARDED } from "./backends/backend";

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
  /** The request headers it varies on (lower-case, sorted), whose values pick its variant; empty when not storable. */
  vary: readonly string[];
}

/** Produces a response on a miss. */
export type Loader = () => Promise<StoredResponse>;

/** What the cache needs of a request to find its entry. */
export interface CacheRequest {
  /** The request's primary key (see primaryKey). */
  primary: string;
  /** The request as sent (requestAsSent), when small enough to remember its primary key by. */
  sent?: string;
  /** The headers the route declares it varies on. */
  declared: readonly string[];
  /** The request's headers, whose values of the varied names pick the variant. */
  headers: IncomingHttpHeaders;
}

/** How a request was answered: from the cache, by a call whose response was stored, or by one whose response was not. */
export type CacheOutcome = "HIT" | "MISS" | "BYPASS";

/** Deepest nesting of arrays and objects a cached route's JSON body may have: far beyond any spec'd input. */
export const MAX_JSON_DEPTH = 64;

/**
 * Largest JSON body that is canonicalized (parsed, keys sorted, serialized)
 * for the key; larger ones are hashed as sent. Canonicalizing costs far more
 * than hashing (sorting keys is n log n), and on a hit it is most of the
 * request's cost, so it is bounded; a larger body sent with another key order
 * is only another entry.
 */
export const MAX_CANONICAL_BYTES = 64 * 1024;

/** The response cache's byte bound when none is given. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** One entry may take at most this share of the byte bound, so one response cannot flush the cache. */
const ENTRY_SHARE = 8;

/** Bookkeeping an entry costs beyond its key, headers and body (objects, the LRU's slots). */
const ENTRY_OVERHEAD = 256;

/** Most header names a stored response may vary on; more and it is not stored, which bounds the key's cost. */
const MAX_VARY_NAMES = 16;

/** The content codings the cache tells apart in Accept-Encoding, sorted; any other is dropped. */
const CODINGS = ["br", "deflate", "gzip", "zstd"];

/** A valid header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

const DEFAULT_TTL_MS = 60_000;

/** Whether JSON text nests arrays and objects deeper than `limit`. One pass over the bytes, no parse; brackets inside strings do not count. */
export function nestsDeeperThan(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === 0x5c) i++;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > limit) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

/**
 * The query of `url`, normalized: parameters sorted by name, each name's
 * values kept in their order (a backend may read the first or the last), and
 * percent-encoding made uniform.
 */
export function normalizedQuery(url: string): string {
  const at = url.indexOf("?");
  if (at < 0 || at === url.length - 1) return "";
  const params = [...new URLSearchParams(url.slice(at + 1))];
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(params).toString();
}

/**
 * Accept-Encoding reduced to the set of codings the cache tells apart
 * (`br,deflate,gzip,zstd`, sorted, comma-joined), honoring `q=0` and `*`;
 * `identity` when none is accepted or the header is absent. The key holds
 * this, and the backend of a cached route is sent this, so what it encodes
 * for is what the key says.
 */
export function normalizedAcceptEncoding(value: string | string[] | undefined): string {
  if (value === undefined) return "identity";
  const stated = new Map<string, boolean>();
  for (const part of (Array.isArray(value) ? value.join(",") : value).split(",")) {
    const [coding, ...params] = part.split(";");
    const refused = params.some((param) => /^\s*q\s*=\s*0(\.0{0,3})?\s*$/i.test(param));
    stated.set(coding.trim().toLowerCase(), !refused);
  }
  const any = stated.get("*") === true;
  const accepted = CODINGS.filter((coding) => stated.get(coding) ?? any);
  return accepted.length > 0 ? accepted.join(",") : "identity";
}

/** The value of header `name` that picks a variant; absent and empty are told apart. */
function variantValue(headers: IncomingHttpHeaders, name: string): string {
  if (name === "accept-encoding") return normalizedAcceptEncoding(headers[name]);
  const value = headers[name];
  if (value === undefined) return "\u0001";
  return Array.isArray(value) ? value.join(", ") : value;
}

const normalizedNames = new WeakMap<readonly string[], readonly string[]>();

/** `names` lower-cased, deduplicated and sorted, computed once per array (a route's declared list is built once). */
function varyNames(names: readonly string[]): readonly string[] {
  let normalized = normalizedNames.get(names);
  if (!normalized) {
    normalized = [...new Set(names.map((name) => name.trim().toLowerCase()))].sort();
    normalizedNames.set(names, normalized);
  }
  return normalized;
}

/**
 * The primary key of one request: tenant, route, method, the version it goes
 * to, and a hash of its content type, normalized query and body (JSON
 * canonicalized up to MAX_CANONICAL_BYTES, so key order does not matter).
 * The hashed parts are the ones a client writes, so no separator inside them
 * can make two requests collide.
 *
 * @throws ServingError INVALID_INPUT when a JSON body nests deeper than MAX_JSON_DEPTH.
 */
export function primaryKey(request: {
  tenant: string;
  route: string;
  method: string;
  version: string;
  url: string;
  contentType: string | undefined;
  body: Buffer;
}): string {
  const { body } = request;
  const contentType = request.contentType?.trim().toLowerCase() ?? "";
  const json = contentType.includes("json");
  // Checked before anything parses the body: building the key of deeply nested JSON
  // (parse, then canonicalize, both recursive) would hold the event loop for every request.
  if (json && nestsDeeperThan(body, MAX_JSON_DEPTH))
    throw new ServingError("INVALID_INPUT", `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
  const prefix = `${contentType}\0${normalizedQuery(request.url)}\0`;
  let canonical: string | undefined;
  if (json && body.length > 0 && body.length <= MAX_CANONICAL_BYTES) {
    try {
      canonical = JSON.stringify(canonicalize(JSON.parse(body.toString("utf8"))));
    } catch {
      canonical = undefined;
    }
  }
  // One-shot hashing where the parts are strings (every cache lookup makes a key, so no Hash object for them).
  const digest =
    canonical === undefined
      ? createHash("sha256").update(prefix).update(body).digest("base64url")
      : hash("sha256", prefix + canonical, "base64url");
  return `${request.tenant}|${request.route}|${request.method}|${request.version}|${digest}`;
}

/** What a request's primary key is made of (see primaryKey). */
export type PrimaryKeyParts = Parameters<typeof primaryKey>[0];

/**
 * Longest body whose request is remembered as sent (see requestAsSent): a
 * repeated request within it skips parsing, canonicalizing and hashing.
 */
export const MAX_REMEMBERED_BODY_BYTES = 4 * 1024;

/** Bytes of remembered requests the cache keeps at most, beside its entries. */
const REMEMBERED_BYTES = 8 * 1024 * 1024;

/**
 * The request as its client sent it, in one string: tenant, route, method,
 * version, content type, URL and body, joined by NUL. None of the parts
 * before the body can hold a NUL (the server's own names, a method, a
 * request target and a header value as Node's parser accepts them), so no
 * two requests give one string. Undefined for a body over
 * MAX_REMEMBERED_BODY_BYTES.
 */
export function requestAsSent(parts: PrimaryKeyParts): string | undefined {
  if (parts.body.length > MAX_REMEMBERED_BODY_BYTES) return undefined;
  return `${parts.tenant}\0${parts.route}\0${parts.method}\0${parts.version}\0${parts.contentType ?? ""}\0${parts.url}\0${parts.body.toString("latin1")}`;
}

/**
 * The key of the variant of `primary` that a request with `headers` selects,
 * when the response varies on `names`: the names and values joined by NUL,
 * which neither a header name nor a value Node's parser accepts can contain
 * (so no two requests collide), without a hash, since this runs on every hit.
 */
export function variantKey(primary: string, names: readonly string[], headers: IncomingHttpHeaders): string {
  let key = primary;
  for (const name of names) key += `\0${name}\0${variantValue(headers, name)}`;
  return key;
}

/** Whether two sorted lists of header names are the same. */
function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The L2's key of an entry: hashed, so header values the variant holds (a cookie, say) are not written out as key names. */
function l2Key(key: string): string {
  return `cl:cache:${createHash("sha256").update(key).digest("base64url")}`;
}

/**
 * The request headers a response varies on: the route's `declared` ones,
 * those its Vary names, and Accept-Encoding when it is encoded (a coding the
 * client did not accept must not reach it, Vary or not). Undefined when the
 * key cannot hold them: Vary `*`, a header the gateway never forwards (a
 * credential, Host, a hop-by-hop header: the key would hold secrets or names
 * the backend never saw), a malformed name, or more than MAX_VARY_NAMES.
 */
export function responseVary(declared: readonly string[], responseHeaders: Record<string, string>): readonly string[] | undefined {
  const encoding = responseHeaders["content-encoding"]?.trim().toLowerCase();
  const encoded = encoding !== undefined && encoding !== "" && encoding !== "identity";
  // Most responses name no Vary and no coding: they vary on the declared names alone (already sorted, made once).
  if (responseHeaders.vary === undefined && !encoded) {
    const names = varyNames(declared);
    return names.length > MAX_VARY_NAMES ? undefined : names;
  }
  const names = new Set(varyNames(declared));
  for (const part of (responseHeaders.vary ?? "").split(",")) {
    const name = part.trim().toLowerCase();
    if (name === "") continue;
    if (name === "*" || NOT_FORWARDED.has(name) || !TOKEN.test(name)) return undefined;
    names.add(name);
  }
  if (encoded) names.add("accept-encoding");
  if (names.size > MAX_VARY_NAMES) return undefined;
  return [...names].sort();
}

/**
 * Whether a response may be stored, per http-cache-semantics and cloudloom's
 * own rules, for how long, and the headers it varies on.
 */
export function storability(
  status: number,
  responseHeaders: Record<string, string>,
  declared: readonly string[] = [],
): { storable: boolean; maxTtlMs: number; vary: readonly string[] } {
  const refused = { storable: false, maxTtlMs: 0, vary: [] };
  if (status < 200 || status >= 300 || responseHeaders["set-cookie"] !== undefined) return refused;
  const vary = responseVary(declared, responseHeaders);
  if (!vary) return refused;
  const directives = responseHeaders["cache-control"] ?? "";
  const explicit = /\b(s-maxage|max-age)=\d+/i.test(directives) || responseHeaders.expires !== undefined;
  if (!explicit)
    return storableWithoutExpiry(status, responseHeaders) ? { storable: true, maxTtlMs: Number.POSITIVE_INFINITY, vary } : refused;
  const policy = cachePolicy(status, responseHeaders);
  if (!policy.storable() || policy.timeToLive() <= 0) return refused;
  return { storable: true, maxTtlMs: policy.timeToLive(), vary };
}

/**
 * The policy of a response, asked about it alone, as if to an anonymous GET: the key covers tenant,
 * body and the varied headers, so what matters is what upstream's Cache-Control allows.
 */
function cachePolicy(status: number, responseHeaders: Record<string, string>): CachePolicy {
  return new CachePolicy({ method: "GET", url: "/", headers: {} }, { status, headers: responseHeaders }, { shared: true });
}

/** Verdicts of responses without an explicit expiry, by status and directives; few, and cleared if they ever are not. */
const verdictsWithoutExpiry = new Map<string, boolean>();

/**
 * Whether http-cache-semantics lets a response without an explicit expiry be stored. Without one,
 * its verdict depends on nothing but the status and the Cache-Control and Pragma directives, not on
 * time, so it is asked once per combination rather than for every miss (a policy costs ~2 µs).
 */
function storableWithoutExpiry(status: number, responseHeaders: Record<string, string>): boolean {
  const key = `${status}\0${responseHeaders["cache-control"] ?? ""}\0${responseHeaders.pragma ?? ""}`;
  let verdict = verdictsWithoutExpiry.get(key);
  if (verdict === undefined) {
    verdict = cachePolicy(status, responseHeaders).storable();
    if (verdictsWithoutExpiry.size >= 256) verdictsWithoutExpiry.clear();
    verdictsWithoutExpiry.set(key, verdict);
  }
  return verdict;
}

/** What an entry costs the L1's byte bound: its key, headers and body, plus bookkeeping. */
function entryBytes(response: StoredResponse, key: string): number {
  let bytes = ENTRY_OVERHEAD + key.length + response.body.length;
  for (const name in response.headers) bytes += name.length + response.headers[name].length;
  return bytes;
}

/**
 * The fill's response is not kept under the key it was filled for: it may
 * not be stored (`variant` undefined), or it varies on other headers than the
 * fill was keyed on and is kept under `variant`. Every request that waited
 * on the fill gets this, and decides whether the response is also theirs.
 */
class NotKept extends Error {
  constructor(
    readonly response: StoredResponse,
    readonly variant?: string,
  ) {
    super("the response is not kept under the key it was filled for");
  }
}

/** What a fill needs beyond its key: the first caller's request and loader, and whether the loader ran. */
interface FillContext {
  primary: string;
  /** The route's declared vary headers, normalized. */
  declared: readonly string[];
  headers: IncomingHttpHeaders;
  load: Loader;
  /** Set when the loader was called (not when the L2 had the entry). */
  loaded: boolean;
}

/** Rounds of lookup a request makes when the response it waited on turns out to be another variant. */
const MAX_ROUNDS = 2;

/** The L1 (and optional L2) response cache of a gateway. */
export class ResponseCache {
  private readonly l1: LRUCache<string, StoredResponse>;
  /** Per primary key, the header names its last response varied on. */
  private readonly varies: LRUCache<string, readonly string[]>;
  /**
   * Fills in flight, by key: the single flight. A map of promises rather than
   * lru-cache's fetch, which builds an AbortController and sets the entry
   * twice per miss; a fill here cannot be aborted, and settles its waiters
   * whether or not its entry stays in the L1.
   */
  private readonly filling = new Map<string, Promise<StoredResponse>>();
  private readonly maxEntryBytes: number;
  /**
   * Primary keys of requests the L1 answered, by the request as sent: the
   * same request again gets its key without its body being parsed,
   * canonicalized and hashed (which was most of a hit's own work). A key
   * depends on nothing but the request, so a remembered one stays right
   * whatever happens to the entries.
   */
  private readonly keys: LRUCache<string, string>;

  /**
   * A cache of at most `maxEntries` entries and `maxBytes` bytes (keys,
   * headers and bodies), one entry at most an eighth of that, with `redis`
   * as its L2 when given.
   */
  constructor(
    maxEntries: number,
    private readonly redis?: Redis,
    maxBytes = DEFAULT_CACHE_BYTES,
  ) {
    this.maxEntryBytes = Math.max(1, Math.floor(maxBytes / ENTRY_SHARE));
    this.l1 = new LRUCache<string, StoredResponse>({
      max: maxEntries,
      maxSize: maxBytes,
      maxEntrySize: this.maxEntryBytes,
      sizeCalculation: (response, key) => entryBytes(response, key),
      ttl: DEFAULT_TTL_MS,
      ttlAutopurge: false,
    });
    this.varies = new LRUCache<string, readonly string[]>({ max: maxEntries, ttl: DEFAULT_TTL_MS });
    this.keys = new LRUCache<string, string>({
      max: maxEntries,
      maxSize: REMEMBERED_BYTES,
      sizeCalculation: (primary, sent) => sent.length + primary.length + ENTRY_OVERHEAD,
    });
  }

  /**
   * The primary key of `parts`: remembered when the same request, byte for
   * byte, was answered from the L1 before, else made (see primaryKey, whose
   * error it throws).
   */
  primaryKeyOf(parts: PrimaryKeyParts, sent = requestAsSent(parts)): string {
    return (sent !== undefined && this.rememberedKey(sent)) || primaryKey(parts);
  }

  /** Entries held in the L1, and the bytes they count against its bound. */
  usage(): { entries: number; bytes: number } {
    return { entries: this.l1.size, bytes: this.l1.calculatedSize };
  }

  /**
   * The L1's response for `request` when it holds one, found with no promise
   * and nothing a hit does not need: undefined sends the request to `get`
   * (a miss, or a primary key whose vary names only the L2 may know).
   */
  lookup(request: CacheRequest): StoredResponse | undefined {
    const names = this.varies.get(request.primary) ?? (this.redis ? undefined : varyNames(request.declared));
    const hit = names && this.l1.get(variantKey(request.primary, names, request.headers));
    // Remembered once a request is answered from here: a miss's key is not (most are never asked again).
    if (hit && request.sent !== undefined && !this.keys.has(request.sent)) this.keys.set(request.sent, request.primary);
    return hit;
  }

  /** The primary key remembered for the request `sent`, if any (see primaryKeyOf). */
  rememberedKey(sent: string): string | undefined {
    return this.keys.get(sent);
  }

  /**
   * The cached response for `request`, or the loader's, made once for all
   * concurrent requests with the same key. `ttlMs` is the route's TTL;
   * upstream max-age can only shorten it. A request that waited on a response
   * of another variant, or on one that may not be stored, loads its own.
   */
  async get(request: CacheRequest, ttlMs: number, load: Loader): Promise<{ response: StoredResponse; outcome: CacheOutcome }> {
    const { primary, headers } = request;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const declared = varyNames(request.declared);
      const names = this.varies.get(primary) ?? (this.redis ? await this.readVary(primary, declared, ttlMs) : declared);
      const key = variantKey(primary, names, headers);
      const cached = this.l1.get(key);
      if (cached) return { response: cached, outcome: "HIT" };
      let pending = this.filling.get(key);
      // Only the request that starts the fill can have loaded; the others waited on it.
      const context: FillContext | undefined = pending ? undefined : { primary, declared, headers, load, loaded: false };
      if (context) {
        pending = this.fill(key, context, ttlMs);
        this.filling.set(key, pending);
        pending.then(
          () => this.filling.delete(key),
          () => this.filling.delete(key),
        );
      }
      try {
        return { response: await pending!, outcome: context?.loaded ? "MISS" : "HIT" };
      } catch (error) {
        if (!(error instanceof NotKept)) throw error;
        if (context?.loaded) return { response: error.response, outcome: error.variant === undefined ? "BYPASS" : "MISS" };
        if (error.variant === undefined) break;
        if (variantKey(primary, error.response.vary, headers) === error.variant) return { response: error.response, outcome: "HIT" };
      }
    }
    return { response: await load(), outcome: "BYPASS" };
  }

  /**
   * One fill: the L2's entry for `key`, else the loader's response, stored under the variant it
   * selects. Rejects with NotKept when that is not `key` (or the response may not be stored).
   */
  private async fill(key: string, context: FillContext, routeTtlMs: number): Promise<StoredResponse> {
    const { primary, headers, load } = context;
    const shared = this.redis?.status === "ready" ? await this.readEntry(key) : undefined;
    if (shared) {
      const ttl = Math.max(1, Math.min(routeTtlMs, shared.maxTtlMs));
      this.varies.set(primary, shared.vary, { ttl });
      this.l1.set(key, shared, { ttl });
      return shared;
    }
    context.loaded = true;
    const fresh = await load();
    if (!fresh.storable) throw new NotKept(fresh);
    const variant = variantKey(primary, fresh.vary, headers);
    if (entryBytes(fresh, variant) > this.maxEntryBytes) throw new NotKept(fresh);
    const ttl = Math.max(1, Math.min(routeTtlMs, fresh.maxTtlMs));
    // Without an L2, a primary key with no record varies on the route's declared headers: only other names need one.
    if (this.redis || this.varies.has(primary) || !sameNames(fresh.vary, context.declared)) this.varies.set(primary, fresh.vary, { ttl });
    void this.writeL2(primary, variant, fresh, ttl);
    this.l1.set(variant, fresh, { ttl });
    if (variant === key) return fresh;
    throw new NotKept(fresh, variant);
  }

  /**
   * The names `primary`'s responses vary on, as an instance recorded them in
   * the L2, else `declared`. Remembered in the L1 for `ttlMs` either way, so
   * the L2 is asked once per primary key, not on every miss.
   */
  private async readVary(primary: string, declared: readonly string[], ttlMs: number): Promise<readonly string[]> {
    if (this.redis?.status !== "ready") return declared;
    let names = declared;
    try {
      const raw = await this.redis.get(`cl:cache-vary:${primary}`);
      const recorded = raw === null ? undefined : (JSON.parse(raw) as unknown);
      if (Array.isArray(recorded) && recorded.every((name) => typeof name === "string")) names = varyNames(recorded);
    } catch {
      // An unreadable record is no record: the first response names the headers again.
    }
    this.varies.set(primary, names, { ttl: ttlMs });
    return names;
  }

  private async readEntry(key: string): Promise<StoredResponse | undefined> {
    if (this.redis?.status !== "ready") return undefined;
    try {
      const raw = await this.redis.getBuffer(l2Key(key));
      if (!raw) return undefined;
      const { status, headers, storedAt, expiresAt, vary, body } = JSON.parse(raw.toString("utf8")) as Omit<
        StoredResponse,
        "body" | "storable" | "maxTtlMs"
      > & { body: string; expiresAt: number };
      const maxTtlMs = expiresAt - Date.now();
      if (!(maxTtlMs > 0) || !Array.isArray(vary)) return undefined;
      return { status, headers, storedAt, vary, body: Buffer.from(body, "base64"), storable: true, maxTtlMs };
    } catch {
      return undefined;
    }
  }

  /** Writes the entry and the names its primary key varies on in one transaction, so an instance that finds one finds both. */
  private async writeL2(primary: string, variant: string, response: StoredResponse, ttlMs: number): Promise<void> {
    if (this.redis?.status !== "ready") return;
    const ms = Math.max(1, Math.round(ttlMs));
    const payload = JSON.stringify({
      status: response.status,
      headers: response.headers,
      storedAt: response.storedAt,
      expiresAt: Date.now() + ms,
      vary: response.vary,
      body: response.body.toString("base64"),
    });
    await this.redis
      .multi()
      .set(`cl:cache-vary:${primary}`, JSON.stringify(response.vary), "PX", ms)
      .set(l2Key(variant), payload, "PX", ms)
      .exec()
      .catch(() => undefined);
  }
}
