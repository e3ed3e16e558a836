/**
 * A fast-check property over raw HTTP/1.1: it generates requests (method,
 * target, headers, framing, body), writes their exact bytes on a socket of
 * their own to one live gateway in front of counting upstreams, and checks
 * three things about every one of them:
 *
 * 1. The gateway stays up: `GET /healthz` answers 200 every HEALTH_EVERY
 *    requests and at the end (an uncaught exception would fail the test too).
 * 2. What comes back is well-formed HTTP/1.1: status lines, header lines,
 *    bodies framed by one Content-Length or valid chunks, never more
 *    responses than requests, never a truncated one. Every error (≥ 400) is
 *    `{"error":{"code","message"}}` with the status of its code, except the
 *    bare answers Node's own HTTP parser gives before the gateway sees the
 *    request (see `isNodeParserAnswer`).
 * 3. The upstream never gets a request the gateway did not authenticate,
 *    limit and frame: no credentials and no client-written `x-cloudloom-*`
 *    header, the tenant the gateway derived (`t-` + 12 hex of sha256(key),
 *    or "public"), a body exactly as long as its Content-Length and equal to
 *    the body the generated framing carries, the route the generated target
 *    names exactly, auth satisfied by that request's own key, each route's
 *    limit kept, and at most one upstream request per request the client
 *    sent (each carries a unique `x-request-id`, which the gateway keeps).
 *
 * Seed and runs: PROPERTY_SEED and PROPERTY_RUNS (fast-check prints the seed
 * and the path of a failure). The gateway is stateful (limits, cache), so a
 * replay reproduces the requests, not always the gateway's state.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import fc from "fast-check";
import { ERROR_STATUS, functionInvokePath, modelPredictPath } from "../../runtime/contract";
import { gatewaySpec, KEY_A, KEY_B, startGateway } from "../support/gateway-app";
import type { StubUpstream } from "../support/upstream";

const SEED = Number(process.env.PROPERTY_SEED ?? 20_240_617);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 500);
/** The longest a request's exchange may take: past the gateway's request timeout and Node's 1 s check of it. */
const READ_CAP_MS = 5_000;
/** How long a request whose framing can never complete waits for an answer before the client gives up (unless it waits for the timeout). */
const INCOMPLETE_WAIT_MS = 250;
/** Quiet time after the expected responses before the client closes (a keep-alive connection stays open). */
const IDLE_MS = 30;
const HEALTH_EVERY = 25;
const BODY_LIMIT = 4_096;
const MAX_URL = 2_048;
/**
 * Short header, request and upstream timeouts so hung framings and hung
 * upstream calls end within the client's read cap; a small body
 * limit so some bodies get 413 with their bytes still coming; and a small
 * failed-auth count in a short window, so the lockout (429 even with a valid
 * key) trips and lifts during the run instead of blocking keyed routes for
 * the whole of it.
 */
const SETTINGS = {
  limits: {
    upstreamTimeoutMs: 2_500,
    headersTimeoutMs: 1_500,
    requestTimeoutMs: 2_000,
    bodyBytes: BODY_LIMIT,
    maxUrlLength: MAX_URL,
    authFailures: { perAddress: 5, windowSeconds: 2 },
  },
};

/** Header names not to generate (triage: to look past a finding they trigger), comma-separated. */
const OMITTED = (process.env.PROPERTY_OMIT_HEADERS ?? "").split(",").filter(Boolean);
/** Client credentials (the gateway's API keys, its admin key) that no backend may see. */
const NEVER_FORWARDED = ["authorization", "x-api-key", "proxy-authorization", "x-admin-key"];
/**
 * Triage only: known findings to look past while hunting for others, comma-separated: forwarded
 * header names (e.g. `x-admin-key`) and statuses allowed without a JSON body (e.g. `417`).
 */
const TOLERATED = (process.env.PROPERTY_TOLERATE ?? "").split(",").filter(Boolean);
const tenantOf = (key: string) => `t-${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
const KEYS = [KEY_A, KEY_B];
const WELL_FORMED_ID = /^[A-Za-z0-9._-]{8,128}$/;
const CRLF = "\r\n";

/** Every route of gatewaySpec(), by the upstream path its backend is called on. */
interface RouteFacts {
  route: string;
  keyed: boolean;
  limit?: { requests: number; by: "tenant" | "address" | "route" };
}
const BY_UPSTREAM_PATH: Record<string, RouteFacts> = {
  [functionInvokePath("echo")]: { route: "/echo", keyed: true },
  [functionInvokePath("open")]: { route: "/open", keyed: false },
  [functionInvokePath("limited")]: { route: "/limited", keyed: true, limit: { requests: 10, by: "tenant" } },
  [functionInvokePath("byip")]: { route: "/by-ip", keyed: false, limit: { requests: 2, by: "address" } },
  [functionInvokePath("failopen")]: { route: "/fail-open", keyed: false, limit: { requests: 2, by: "route" } },
  [functionInvokePath("failclosed")]: { route: "/fail-closed", keyed: false, limit: { requests: 2, by: "route" } },
  [functionInvokePath("faillocal")]: { route: "/fail-local", keyed: false, limit: { requests: 2, by: "route" } },
  [modelPredictPath("m@1")]: { route: "/model", keyed: false },
  [modelPredictPath("m@2")]: { route: "/model", keyed: false },
};
const ROUTE_PATHS = ["/echo", "/open", "/limited", "/by-ip", "/fail-open", "/fail-closed", "/fail-local", "/model"];

// ---------------------------------------------------------------------------
// The counting upstream: a real HTTP server that keeps every request's method,
// path, headers and raw body bytes, and counts bytes it could not parse.

interface Arrival {
  upstream: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body so far; `complete` once the request ended. */
  body: Buffer;
  complete: boolean;
  at: number;
}

class CountingUpstream {
  url = "";
  private server?: Server;

  constructor(
    readonly name: string,
    private readonly arrivals: Arrival[],
    private readonly anomalies: string[],
  ) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      // Counted from its head, so a request whose body never comes is seen too.
      const arrival: Arrival = {
        upstream: this.name,
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.alloc(0),
        complete: false,
        at: Date.now(),
      };
      this.arrivals.push(arrival);
      req.on("data", (chunk: Buffer) => (arrival.body = Buffer.concat([arrival.body, chunk])));
      req.on("end", () => {
        arrival.complete = true;
        const payload = JSON.stringify({ upstream: this.name, path: req.url });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(payload);
      });
    });
    // Bytes from the gateway that do not parse as HTTP: framing the gateway got wrong.
    server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      if (error.code !== "ECONNRESET")
        this.anomalies.push(`${this.name} could not parse what the gateway sent: ${error.code} ${error.message}`);
      socket.destroy();
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------
// What is generated.

type Casing = "lower" | "upper" | "title" | "mixed";
/** A header line: a name and value, or (junk) a raw line as it is. */
interface HeaderSpec {
  name: string;
  value: string;
  casing: Casing;
  /** A raw line replacing `name: value` (junk the parser may refuse). */
  raw?: string;
}
type KeyChoice = "none" | "A" | "B" | "wrong";
/** A whole second request, hidden in the body or sent right after it. */
interface Embedded {
  path: string;
  key: KeyChoice;
  forgedTenant: boolean;
}
type BodySpec = { kind: "bytes"; label: string; bytes: Buffer } | { kind: "embedded"; embedded: Embedded };
type Defect = "bad-hex" | "size-mismatch" | "no-crlf" | "negative" | "overflow" | "ext-junk";
type Framing =
  | { kind: "none" }
  | { kind: "cl"; style: "plain" | "leading-zero" | "ows" }
  | { kind: "cl-short"; fraction: number }
  | { kind: "cl-long"; extra: number }
  | { kind: "cl-bad"; values: (n: number) => string[]; label: string }
  | { kind: "chunked"; te: string; cuts: number[]; upperHex: boolean; extension: boolean; trailer: boolean }
  | { kind: "chunked-lf"; cuts: number[] }
  | { kind: "chunked-bad"; defect: Defect; cuts: number[] }
  | { kind: "chunked-noend"; cuts: number[] }
  | { kind: "te-bad"; te: string[]; label: string }
  | { kind: "cl-te"; teFirst: boolean; cl: "right" | "zero" | "short" };

interface Generated {
  method: string;
  target: string;
  version: string;
  line: "sp" | "double-sp" | "tab" | "no-version";
  host: "normal" | "missing" | "duplicate" | "empty";
  marker: "plain" | "junk-dup" | "malformed";
  markerCasing: Casing;
  headers: HeaderSpec[];
  body: BodySpec;
  framing: Framing;
  framingAt: number;
  lineEnding: "crlf" | "lf";
  trailing?: Embedded;
  /** Where the bytes are cut into separate writes (fractions of the whole). */
  cuts: number[];
  /** For a framing that cannot complete: wait for the server's own timeout instead of giving up. */
  awaitTimeout: boolean;
}

const casingArb = fc.constantFrom<Casing>("lower", "lower", "title", "upper", "mixed");

function applyCasing(name: string, casing: Casing): string {
  switch (casing) {
    case "lower":
      return name.toLowerCase();
    case "upper":
      return name.toUpperCase();
    case "title":
      return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    case "mixed":
      return [...name].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join("");
  }
}

const methodArb = fc.oneof(
  { weight: 20, arbitrary: fc.constant("POST") },
  { weight: 5, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH") },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom("post", "Post", "P0ST", "POST\x00", "CONNECT", "TRACE", "PRI", "SEARCH", "PROPFIND", "QUERY", "M-POST", "FOO"),
      fc.stringMatching(/^[A-Z!#$%&'*+.^_`|~-]{1,12}$/),
      fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 8 }),
    ),
  },
);

/** Routes that stay open get most requests; the limited ones (2 per minute) are exercised, and 429, all the same. */
const routeArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("/open", "/echo") },
  { weight: 2, arbitrary: fc.constantFrom("/model", "/limited") },
  { weight: 1, arbitrary: fc.constantFrom(...ROUTE_PATHS) },
);
const queryArb = fc.constantFrom("", "", "", "?a=1", "?region=de", "?x=%00", "?", "?a=1&a=2", "?%ff", "?q=\xe9", "?#x", "?a=1#frag");
const targetArb = fc.oneof(
  { weight: 16, arbitrary: fc.tuple(routeArb, queryArb).map(([path, query]) => path + query) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        routeArb,
        fc.constantFrom(
          (p: string) => `/${p}`,
          (p: string) => `/.${p}`,
          (p: string) => `/%2F${p.slice(1)}`,
          (p: string) => `%2F${p.slice(1)}`,
          (p: string) => p.toUpperCase(),
          (p: string) => `${p}/`,
          (p: string) => `${p};x=1`,
          (p: string) => `http://x${p}`,
          (p: string) => `HTTP://gateway${p}?a=1`,
          (p: string) => `${p}/.`,
          (p: string) => `/x/..${p}`,
          (p: string) => `/%${p.charCodeAt(1).toString(16)}${p.slice(2)}`,
          (p: string) => `${p}%00`,
          (p: string) => `${p}%20`,
          (p: string) => `${p}#frag`,
          (p: string) => `\\${p.slice(1)}`,
          (p: string) => `/healthz/..${p}`,
          (p: string) => `/admin/..${p}`,
          (p: string) => `${p}\xe9`,
          (p: string) => p.slice(1),
        ),
      )
      .map(([path, variant]) => variant(path)),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "*",
      "/",
      "",
      "/healthz",
      "/readyz",
      "/metrics",
      "/metrics?x=1",
      "/admin/reload",
      "/admin/%",
      "/healthz%",
      "/healthz/%E0%A4%A",
      "/metrics/..%2f..%2fecho",
      "/_cloudloom/functions/echo",
      "/_cloudloom/models/m%401",
      "/%",
      "/echo%",
      "gateway:80",
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(routeArb, fc.integer({ min: MAX_URL - 8, max: MAX_URL + 600 }), fc.boolean())
      .map(([path, length, inQuery]) => (inQuery ? `${path}?q=` : `${path}/`).padEnd(length, "a")),
  },
);

const keyValue = (choice: KeyChoice) => (choice === "A" ? KEY_A : choice === "B" ? KEY_B : "key-wrong-0123456789abcdef");

const authHeaderArb: fc.Arbitrary<HeaderSpec[]> = fc.oneof(
  fc
    .tuple(fc.constantFrom<KeyChoice>("A", "B", "wrong"), casingArb)
    .map(([k, casing]) => [{ name: "authorization", value: `Bearer ${keyValue(k)}`, casing }]),
  fc
    .tuple(fc.constantFrom<KeyChoice>("A", "B", "wrong"), casingArb)
    .map(([k, casing]) => [{ name: "x-api-key", value: keyValue(k), casing }]),
  fc
    .tuple(
      fc.constantFrom(
        `bearer ${KEY_A}`,
        `Bearer  ${KEY_A}  `,
        `Bearer ${KEY_A}x`,
        `Bearer ${KEY_A.toUpperCase()}`,
        "Bearer ",
        "Bearer",
        `Basic ${Buffer.from(`${KEY_A}:`).toString("base64")}`,
        `Bearer ${KEY_A}, Bearer ${KEY_B}`,
        `Bearer ${KEY_B}\t`,
        `Token ${KEY_A}`,
      ),
      casingArb,
    )
    .map(([value, casing]) => [{ name: "authorization", value, casing }]),
  fc
    .tuple(fc.constantFrom(` ${KEY_A} `, `${KEY_A},${KEY_B}`, "", `${KEY_B}\x00`, `${KEY_A}\xe9`), casingArb)
    .map(([value, casing]) => [{ name: "x-api-key", value, casing }]),
  // Both at once, and duplicates (Node keeps the first Authorization, joins x-api-key with ", ").
  fc
    .tuple(
      fc.constantFrom<KeyChoice>("A", "B", "wrong"),
      fc.constantFrom<KeyChoice>("A", "B", "wrong"),
      fc.constantFrom("both", "dup-auth", "dup-key"),
    )
    .map(([first, second, shape]) =>
      shape === "both"
        ? [
            { name: "authorization", value: `Bearer ${keyValue(first)}`, casing: "lower" as Casing },
            { name: "x-api-key", value: keyValue(second), casing: "lower" as Casing },
          ]
        : [
            {
              name: shape === "dup-auth" ? "authorization" : "x-api-key",
              value: (shape === "dup-auth" ? "Bearer " : "") + keyValue(first),
              casing: "lower" as Casing,
            },
            {
              name: shape === "dup-auth" ? "Authorization" : "X-Api-Key",
              value: (shape === "dup-auth" ? "Bearer " : "") + keyValue(second),
              casing: "title" as Casing,
            },
          ],
    ),
);

const plainHeaderArb: fc.Arbitrary<HeaderSpec> = fc
  .tuple(
    fc.constantFrom<[string, string]>(
      ["x-forwarded-for", "203.0.113.7"],
      ["x-forwarded-for", "10.1.1.1, 127.0.0.1"],
      ["x-forwarded-for", "::1"],
      ["x-forwarded-for", "not-an-ip"],
      ["x-real-ip", "198.51.100.1"],
      ["forwarded", "for=203.0.113.9;host=evil"],
      ["x-cloudloom-tenant", "t-forged"],
      ["x-cloudloom-tenant", tenantOf(KEY_A)],
      ["x-cloudloom-tenant", "public"],
      ["x-cloudloom-version", "forged"],
      ["x-cloudloom-locality", "de"],
      ["x-cloudloom-region", "edge"],
      ["x-cloudloom-admin", "1"],
      ["x-admin-key", "guess"],
      ["proxy-authorization", "Basic Zm9yZ2Vk"],
      ["content-type", "application/json"],
      ["content-type", "application/json; charset=utf-16"],
      ["content-type", "text/plain"],
      ["content-type", "multipart/form-data; boundary=x"],
      ["content-type", "\xe9/\xe9"],
      ["accept-language", "de"],
      ["accept-encoding", "gzip, br"],
      ["x-forwarded-host", "evil.example"],
      ["x-http-method-override", "GET"],
      ["expect", "100-continue"],
      ["expect", "200-ok"],
      ["connection", "close"],
      ["connection", "keep-alive"],
      ["connection", "x-cloudloom-tenant, authorization"],
      ["connection", "upgrade"],
      ["upgrade", "websocket"],
      ["te", "trailers"],
      ["trailer", "x-api-key"],
      ["keep-alive", "timeout=1"],
      ["cookie", "a=b"],
      ["x-empty", ""],
      ["x-latin", "caf\xe9"],
      ["x-many-commas", ",,,,"],
    ),
    casingArb,
  )
  .filter(([[name]]) => !OMITTED.includes(name))
  .map(([[name, value], casing]) => ({ name, value, casing }));

/** Lines Node's parser may refuse, or accept in ways worth watching. */
const junkHeaderArb: fc.Arbitrary<HeaderSpec> = fc
  .constantFrom(
    "X-Nul: a\x00b",
    "X-Del: a\x7fb",
    "X-Ctl: a\x01b",
    "X-Fold: a\r\n b",
    `Authorization: Bearer\r\n ${KEY_A}`,
    "X Space: a",
    "X-Before-Colon : a",
    ": no-name",
    "NoColonLine",
    "X-Cr: a\rb",
    "X-Lf: a\nb",
    `x-api-key:${KEY_A}`,
    "X-Tab:\tvalue\t",
    "X-\xe9: name",
    `X-Big: ${"a".repeat(17_000)}`,
    `X-Cloudloom-Tenant:${tenantOf(KEY_B)}`,
  )
  .map((raw) => ({ name: "", value: "", casing: "lower" as Casing, raw }));

/** Mostly clean requests: an anomaly of each kind in a few of them, so most get past Node's parser to the gateway. */
const rarely = <T>(usual: T, ...odd: T[]): fc.Arbitrary<T> =>
  fc.oneof(
    { weight: 12 * Math.max(1, odd.length), arbitrary: fc.constant(usual) },
    { weight: odd.length, arbitrary: fc.constantFrom(...odd) },
  );

const headersArb: fc.Arbitrary<HeaderSpec[]> = fc
  .tuple(
    fc.option(authHeaderArb, { freq: 3, nil: undefined }),
    fc.array(plainHeaderArb, { maxLength: 4 }),
    fc.oneof(
      { weight: 8, arbitrary: fc.constant<HeaderSpec[]>([]) },
      { weight: 1, arbitrary: fc.array(junkHeaderArb, { minLength: 1, maxLength: 2 }) },
    ),
    fc.nat(),
  )
  .map(([auth, plain, junk, seed]) => {
    const all = [...plain, ...junk];
    // The credentials go anywhere among the rest (order matters for duplicates only among themselves).
    const at = all.length ? seed % (all.length + 1) : 0;
    return [...all.slice(0, at), ...(auth ?? []), ...all.slice(at)];
  });

const embeddedArb: fc.Arbitrary<Embedded> = fc.record({
  path: fc.constantFrom("/open", "/echo", "/limited", "/by-ip", "/_cloudloom/functions/open"),
  key: fc.constantFrom<KeyChoice>("none", "none", "A", "wrong"),
  forgedTenant: fc.boolean(),
});

const deepJson = (depth: number, open: "[" | "obj") =>
  open === "[" ? "[".repeat(depth) + "1" + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<BodySpec>({ kind: "bytes", label: "empty", bytes: Buffer.alloc(0) }) },
  { weight: 6, arbitrary: fc.json({ maxDepth: 3 }).map((json): BodySpec => ({ kind: "bytes", label: "json", bytes: Buffer.from(json) })) },
  { weight: 2, arbitrary: fc.constant<BodySpec>({ kind: "bytes", label: "json", bytes: Buffer.from('{"x":[[1]]}') }) },
  {
    weight: 2,
    arbitrary: fc.string({ maxLength: 64 }).map((text): BodySpec => ({ kind: "bytes", label: "text", bytes: Buffer.from(text) })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 60, max: 90 }), fc.constantFrom<"[" | "obj">("[", "obj"))
      .map(([depth, open]): BodySpec => ({ kind: "bytes", label: `deep-${depth}`, bytes: Buffer.from(deepJson(depth, open)) })),
  },
  {
    weight: 3,
    arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes): BodySpec => ({ kind: "bytes", label: "binary", bytes: Buffer.from(bytes) })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: BODY_LIMIT - 16, max: BODY_LIMIT + 2_000 }).map((length): BodySpec => ({
      kind: "bytes",
      label: `large-${length}`,
      bytes: Buffer.from(`{"p":"${"x".repeat(Math.max(0, length - 8))}"}`),
    })),
  },
  { weight: 3, arbitrary: embeddedArb.map((embedded): BodySpec => ({ kind: "embedded", embedded })) },
);

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 });

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Framing>({ kind: "none" }) },
  {
    weight: 14,
    arbitrary: fc
      .constantFrom<"plain" | "leading-zero" | "ows">("plain", "plain", "plain", "leading-zero", "ows")
      .map((style): Framing => ({ kind: "cl", style })),
  },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 0.999, noNaN: true }).map((fraction): Framing => ({ kind: "cl-short", fraction })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((extra): Framing => ({ kind: "cl-long", extra })) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Framing>(
      { kind: "cl-bad", label: "duplicate, same", values: (n) => [String(n), String(n)] },
      { kind: "cl-bad", label: "duplicate, different", values: (n) => [String(n), String(n + 1)] },
      { kind: "cl-bad", label: "list", values: (n) => [`${n}, ${n}`] },
      { kind: "cl-bad", label: "negative", values: () => ["-1"] },
      { kind: "cl-bad", label: "plus", values: (n) => [`+${n}`] },
      { kind: "cl-bad", label: "hex", values: (n) => [`0x${n.toString(16)}`] },
      { kind: "cl-bad", label: "decimal", values: (n) => [`${n}.0`] },
      { kind: "cl-bad", label: "exponent", values: () => ["1e1"] },
      { kind: "cl-bad", label: "words", values: () => ["abc"] },
      { kind: "cl-bad", label: "empty", values: () => [""] },
      { kind: "cl-bad", label: "huge", values: () => ["99999999999999999999"] },
      { kind: "cl-bad", label: "inner space", values: (n) => [`${n} ${n}`] },
    ),
  },
  {
    weight: 7,
    arbitrary: fc
      .record({
        te: fc.constantFrom("chunked", "chunked", "Chunked", "CHUNKED", " chunked ", "gzip, chunked"),
        cuts: cutsArb,
        upperHex: fc.boolean(),
        extension: fc.boolean(),
        trailer: fc.boolean(),
      })
      .map((f): Framing => ({ kind: "chunked", ...f })),
  },
  { weight: 1, arbitrary: cutsArb.map((cuts): Framing => ({ kind: "chunked-lf", cuts })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom<Defect>("bad-hex", "size-mismatch", "no-crlf", "negative", "overflow", "ext-junk"), cutsArb)
      .map(([defect, cuts]): Framing => ({ kind: "chunked-bad", defect, cuts })),
  },
  { weight: 1, arbitrary: cutsArb.map((cuts): Framing => ({ kind: "chunked-noend", cuts })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Framing>(
      { kind: "te-bad", label: "identity", te: ["identity"] },
      { kind: "te-bad", label: "gzip", te: ["gzip"] },
      { kind: "te-bad", label: "chunked, identity", te: ["chunked, identity"] },
      { kind: "te-bad", label: "chunked twice", te: ["chunked", "chunked"] },
      { kind: "te-bad", label: "chunked then gzip", te: ["chunked", "gzip"] },
      { kind: "te-bad", label: "xchunked", te: ["xchunked"] },
      { kind: "te-bad", label: "chunked;q", te: ["chunked;q=1"] },
      { kind: "te-bad", label: "empty", te: [""] },
      { kind: "te-bad", label: "chunked in quotes", te: ['"chunked"'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ teFirst: fc.boolean(), cl: fc.constantFrom<"right" | "zero" | "short">("right", "zero", "short") })
      .map((f): Framing => ({ kind: "cl-te", ...f })),
  },
);

const generatedArb: fc.Arbitrary<Generated> = fc.record({
  method: methodArb,
  target: targetArb,
  version: rarely("HTTP/1.1", "HTTP/1.0", "HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "http/1.1", "HTTP/11", "HTTP/3"),
  line: rarely<Generated["line"]>("sp", "double-sp", "tab", "no-version"),
  host: rarely<Generated["host"]>("normal", "missing", "duplicate", "empty"),
  marker: rarely<Generated["marker"]>("plain", "junk-dup", "malformed"),
  markerCasing: casingArb,
  headers: headersArb,
  body: bodyArb,
  framing: framingArb,
  framingAt: fc.double({ min: 0, max: 1, noNaN: true }),
  lineEnding: rarely<Generated["lineEnding"]>("crlf", "lf"),
  trailing: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: embeddedArb }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
  awaitTimeout: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
});

/**
 * Half the requests are tame (HTTP/1.1, clean request line and header lines, a body framed by a right
 * Content-Length or valid chunks), so many get past Node's parser and the gateway's refusals to the
 * upstream; the other half is anything the arbitraries make. Method, target, credentials, spoofed
 * headers, body and a trailing request stay generated in both.
 */
const requestArb: fc.Arbitrary<Generated> = fc
  .tuple(
    generatedArb,
    fc.boolean(),
    fc.oneof(
      fc.constant<Framing>({ kind: "cl", style: "plain" }),
      cutsArb.map((cuts): Framing => ({ kind: "chunked", te: "chunked", cuts, upperHex: false, extension: false, trailer: false })),
    ),
  )
  .map(([g, tame, framing]) =>
    tame
      ? {
          ...g,
          version: "HTTP/1.1",
          line: "sp" as const,
          host: "normal" as const,
          lineEnding: "crlf" as const,
          headers: g.headers.filter((h) => h.raw === undefined),
          framing: g.framing.kind === "cl" || g.framing.kind === "chunked" ? g.framing : framing,
        }
      : g,
  );

// ---------------------------------------------------------------------------
// From a generated request to bytes, and what a correct server would make of them.

/** One request the bytes hold (the generated one, or a whole request embedded after it). */
interface SubRequest {
  marker: string;
  method: string;
  target: string;
  /** The body a server that frames this request correctly would forward; undefined when it must never be accepted. */
  body?: Buffer;
  /** Whether the request must be refused (never reach upstream, any answer ≥ 400). */
  mustRefuse: boolean;
  /** Whether the bytes hold it as a request of its own (the generated one; an embedded one exactly after a body framed right). */
  standalone: boolean;
  /** The credential headers as Node would hand them to the gateway, when the request's headers are all well-formed. */
  authorization?: string;
  apiKey?: string;
  /** Header lines that are junk: the key model is then loosened to "a valid key that the bytes carry". */
  junk: boolean;
  raw: Buffer;
}

interface Built {
  bytes: Buffer;
  requests: SubRequest[];
  /** Whole requests the server should parse from the bytes (1, or 2 when a whole embedded request follows the body). */
  expectedResponses: number;
  /** The framing can never complete: the server may only time it out. */
  mayHang: boolean;
}

/** Splits `body` at `cuts` (fractions) into non-empty chunks. */
function chunksOf(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * body.length)))].filter((p) => p > 0 && p < body.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const point of [...points, body.length]) {
    if (point > at) out.push(body.subarray(at, point));
    at = point;
  }
  return out;
}

function chunked(
  body: Buffer,
  cuts: number[],
  options: { upperHex?: boolean; extension?: boolean; trailer?: boolean; eol?: string; end?: boolean },
): Buffer {
  const eol = options.eol ?? CRLF;
  const parts: Buffer[] = [];
  for (const chunk of chunksOf(body, cuts)) {
    const size = chunk.length.toString(16);
    parts.push(
      Buffer.from(`${options.upperHex ? size.toUpperCase() : size}${options.extension ? ";ext=1" : ""}${eol}`, "latin1"),
      chunk,
      Buffer.from(eol),
    );
  }
  if (options.end !== false) parts.push(Buffer.from(`0${eol}${options.trailer ? `X-Trailer: t${eol}` : ""}${eol}`, "latin1"));
  return Buffer.concat(parts);
}

function embeddedRequest(embedded: Embedded, marker: string): SubRequest {
  const lines = [`POST ${embedded.path} HTTP/1.1`, "Host: backend", `x-request-id: ${marker}`];
  if (embedded.forgedTenant) lines.push(`x-cloudloom-tenant: ${tenantOf(KEY_A)}`);
  if (embedded.key !== "none") lines.push(`x-api-key: ${keyValue(embedded.key)}`);
  lines.push("Content-Length: 2");
  const raw = Buffer.from(`${lines.join(CRLF)}${CRLF}${CRLF}{}`, "latin1");
  return {
    marker,
    method: "POST",
    target: embedded.path,
    body: Buffer.from("{}"),
    mustRefuse: false,
    standalone: false,
    apiKey: embedded.key === "none" ? undefined : keyValue(embedded.key),
    junk: false,
    raw,
  };
}

/** The body's wire form, its framing header lines, and what a correct server makes of it. */
function frame(
  framing: Framing,
  body: Buffer,
  after: Buffer,
): { lines: string[]; wire: Buffer; forwarded?: Buffer; leftover: Buffer; mustRefuse: boolean; mayHang: boolean } {
  const n = body.length;
  /** Content-Length framing of `wire`: the body is its first `declared` bytes; fewer bytes never complete. */
  const byLength = (declared: number, lines: string[]) => {
    const wire = Buffer.concat([body, after]);
    return wire.length >= declared
      ? { lines, wire: body, forwarded: wire.subarray(0, declared), leftover: wire.subarray(declared), mustRefuse: false, mayHang: false }
      : { lines, wire: body, leftover: Buffer.alloc(0), mustRefuse: false, mayHang: true };
  };
  switch (framing.kind) {
    case "none":
      return byLength(0, []);
    case "cl": {
      const value = framing.style === "leading-zero" ? `00${n}` : framing.style === "ows" ? `  ${n}  ` : String(n);
      return byLength(n, [`Content-Length: ${value}`]);
    }
    case "cl-short":
      return byLength(Math.floor(framing.fraction * n), [`Content-Length: ${Math.floor(framing.fraction * n)}`]);
    case "cl-long":
      return byLength(n + framing.extra, [`Content-Length: ${n + framing.extra}`]);
    case "cl-bad":
      return { lines: framing.values(n).map((v) => `Content-Length: ${v}`), wire: body, leftover: after, mustRefuse: true, mayHang: true };
    case "chunked":
      return {
        lines: [`Transfer-Encoding: ${framing.te}`],
        wire: chunked(body, framing.cuts, framing),
        forwarded: body,
        leftover: after,
        mustRefuse: false,
        mayHang: false,
      };
    case "chunked-lf":
      // Bare LF line ends in the chunks: either refused or read as the same chunks.
      return {
        lines: ["Transfer-Encoding: chunked"],
        wire: chunked(body, framing.cuts, { eol: "\n" }),
        forwarded: body,
        leftover: after,
        mustRefuse: false,
        mayHang: true,
      };
    case "chunked-bad": {
      const chunks = chunksOf(body, framing.cuts);
      const first = chunks[0] ?? Buffer.from("{}");
      const rest = chunked(Buffer.concat(chunks.slice(1)), [], {});
      const size = first.length.toString(16);
      const head = {
        "bad-hex": `zz${CRLF}`,
        "size-mismatch": `${(first.length + 1).toString(16)}${CRLF}`,
        "no-crlf": `${size}${CRLF}`,
        negative: `-${size}${CRLF}`,
        overflow: `1${"0".repeat(16)}${size}${CRLF}`,
        "ext-junk": `${size};a=\x00${CRLF}`,
      }[framing.defect];
      const tail = framing.defect === "no-crlf" ? "" : CRLF;
      const wire = Buffer.concat([Buffer.from(head, "latin1"), first, Buffer.from(tail), rest]);
      return { lines: ["Transfer-Encoding: chunked"], wire, leftover: after, mustRefuse: true, mayHang: true };
    }
    case "chunked-noend":
      return {
        lines: ["Transfer-Encoding: chunked"],
        wire: chunked(body, framing.cuts, { end: false }),
        leftover: after,
        mustRefuse: true,
        mayHang: true,
      };
    case "te-bad":
      // An empty Transfer-Encoding is an empty list (RFC 9112 `#transfer-coding`): no coding, so no body without a
      // length, and the chunks that follow are the next request's bytes.
      if (framing.te.every((v) => v.trim() === "")) {
        const wire = chunked(body, [], {});
        return {
          lines: framing.te.map((v) => `Transfer-Encoding: ${v}`),
          wire,
          forwarded: Buffer.alloc(0),
          leftover: Buffer.concat([wire, after]),
          mustRefuse: false,
          mayHang: false,
        };
      }
      return {
        lines: framing.te.map((v) => `Transfer-Encoding: ${v}`),
        wire: chunked(body, [], {}),
        leftover: after,
        mustRefuse: true,
        mayHang: true,
      };
    case "cl-te": {
      const wire = chunked(body, [], {});
      const cl = framing.cl === "right" ? wire.length : framing.cl === "zero" ? 0 : Math.max(0, wire.length - 5);
      const lines = [`Content-Length: ${cl}`, "Transfer-Encoding: chunked"];
      return { lines: framing.teFirst ? lines.reverse() : lines, wire, leftover: after, mustRefuse: true, mayHang: true };
    }
  }
}

/**
 * The credentials Node hands the gateway for these header lines: the first
 * Authorization (Node drops later ones), every x-api-key joined with ", ",
 * values without surrounding spaces and tabs.
 */
function credentials(headers: HeaderSpec[]): { authorization?: string; apiKey?: string } {
  let authorization: string | undefined;
  const keys: string[] = [];
  for (const header of headers) {
    if (header.raw !== undefined) continue;
    const name = header.name.toLowerCase();
    const value = header.value.replace(/^[ \t]+|[ \t]+$/g, "");
    if (name === "authorization" && authorization === undefined) authorization = value;
    if (name === "x-api-key") keys.push(value);
  }
  return { authorization, apiKey: keys.length ? keys.join(", ") : undefined };
}

/** The key the gateway takes from these credentials (as authenticate.ts reads them). */
function presentedKey(request: { authorization?: string; apiKey?: string }): string | undefined {
  if (request.authorization?.startsWith("Bearer ")) return request.authorization.slice(7).trim() || undefined;
  return request.apiKey ? request.apiKey : undefined;
}

let sequence = 0;

function build(g: Generated): Built {
  sequence++;
  const marker = `pt-${String(sequence).padStart(6, "0")}-${process.pid}`;
  const embeddedMarker = `sm-${String(sequence).padStart(6, "0")}-${process.pid}`;
  const embedded = g.body.kind === "embedded" ? g.body.embedded : g.trailing;
  const inner = embedded && embeddedRequest(embedded, embeddedMarker);
  const body = g.body.kind === "embedded" ? inner!.raw : g.body.bytes;
  const after = g.body.kind !== "embedded" && inner ? inner.raw : Buffer.alloc(0);
  const framed = frame(g.framing, body, after);

  const eol = g.lineEnding === "lf" ? "\n" : CRLF;
  const sep = g.line === "double-sp" ? "  " : g.line === "tab" ? "\t" : " ";
  const requestLine = g.line === "no-version" ? `${g.method} ${g.target}` : `${g.method}${sep}${g.target}${sep}${g.version}`;
  const markerName = applyCasing("x-request-id", g.markerCasing);
  const markerLines =
    g.marker === "plain"
      ? [`${markerName}: ${marker}`]
      : g.marker === "junk-dup"
        ? [`${markerName}: ${marker}`, "x-request-id: not well formed!"]
        : [`${markerName}: ${marker}\x7f`];
  const hostLines = { normal: ["Host: gateway"], missing: [], duplicate: ["Host: gateway", "Host: evil.example"], empty: ["Host:"] }[
    g.host
  ];
  const headerLines = g.headers.map((h) => h.raw ?? `${applyCasing(h.name, h.casing)}: ${h.value}`);
  const at = Math.floor(g.framingAt * (headerLines.length + 1));
  const lines = [requestLine, ...hostLines, ...markerLines, ...headerLines.slice(0, at), ...framed.lines, ...headerLines.slice(at)];
  const head = Buffer.from(lines.join(eol) + eol + eol, "latin1");
  const bytes = Buffer.concat([head, framed.wire, g.body.kind === "embedded" ? Buffer.alloc(0) : after]);

  const junk = g.headers.some((h) => h.raw !== undefined) || g.lineEnding === "lf" || g.line !== "sp";
  const outer: SubRequest = {
    marker,
    method: g.method,
    target: g.target,
    body: framed.forwarded,
    mustRefuse: framed.mustRefuse,
    standalone: true,
    ...credentials(g.headers),
    junk,
    raw: bytes,
  };
  const requests = [outer];
  // The embedded request is a request of its own only when it is exactly what follows the body.
  // After a framing that must be refused, nothing more on the connection may be parsed.
  const pipelined = inner !== undefined && framed.leftover.equals(inner.raw) && !framed.mustRefuse;
  if (inner) requests.push({ ...inner, standalone: pipelined });
  return { bytes, requests, expectedResponses: pipelined && !framed.mayHang ? 2 : 1, mayHang: framed.mayHang };
}

// ---------------------------------------------------------------------------
// Reading responses strictly.

interface ParsedResponse {
  status: number;
  /** Header lines in order, names as sent. */
  lines: Array<[string, string]>;
  /** Lower-cased name to every value. */
  headers: Map<string, string[]>;
  body: Buffer;
  interim: boolean;
}

class Malformed extends Error {}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function single(response: { headers: Map<string, string[]> }, name: string): string | undefined {
  const values = response.headers.get(name);
  return values?.length ? values[values.length - 1] : undefined;
}

/**
 * Parses every response in `buffer`, the i-th final one answering a request
 * of `methods[i]`. `closed`: the server closed, so a body without length runs
 * to the end. Returns the responses and whether bytes of an incomplete one
 * are left; throws Malformed for bytes that are not HTTP/1.1.
 */
function parseResponses(buffer: Buffer, methods: string[], closed: boolean): { responses: ParsedResponse[]; partial: boolean } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  let finals = 0;
  while (at < buffer.length) {
    const headEnd = buffer.indexOf("\r\n\r\n", at);
    if (headEnd < 0) {
      const prefix = buffer.subarray(at, at + 5).toString("latin1");
      if (!"HTTP/".startsWith(prefix) && !prefix.startsWith("HTTP/"))
        throw new Malformed(`bytes that are not a status line: ${show(buffer.subarray(at))}`);
      if (buffer.length - at > 64 * 1024) throw new Malformed("a response head over 64 KiB");
      return { responses, partial: true };
    }
    const [statusLine, ...headerLines] = buffer.subarray(at, headEnd).toString("latin1").split("\r\n");
    const status = /^HTTP\/1\.1 ([1-5]\d\d) [\t\x20-\x7e\x80-\xff]*$/.exec(statusLine);
    if (!status) throw new Malformed(`status line ${JSON.stringify(statusLine)}`);
    const lines: Array<[string, string]> = [];
    const headers = new Map<string, string[]>();
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
      if (colon <= 0 || !TOKEN.test(name) || !FIELD_VALUE.test(value)) throw new Malformed(`header line ${JSON.stringify(line)}`);
      lines.push([name, value]);
      headers.set(name.toLowerCase(), [...(headers.get(name.toLowerCase()) ?? []), value]);
    }
    const code = Number(status[1]);
    const interim = code < 200;
    const method = methods[finals] ?? "GET";
    let bodyStart = headEnd + 4;
    const lengths = headers.get("content-length") ?? [];
    const encodings = headers.get("transfer-encoding") ?? [];
    if (lengths.length > 1 || (lengths.length && !/^\d+$/.test(lengths[0])))
      throw new Malformed(`content-length ${JSON.stringify(lengths)}`);
    if (lengths.length && encodings.length) throw new Malformed("both content-length and transfer-encoding");
    if (encodings.length && encodings.join(",").toLowerCase().replace(/\s/g, "") !== "chunked")
      throw new Malformed(`transfer-encoding ${JSON.stringify(encodings)}`);
    let body: Buffer;
    if (interim || code === 204 || code === 304 || method === "HEAD") {
      body = Buffer.alloc(0);
    } else if (lengths.length) {
      const length = Number(lengths[0]);
      if (buffer.length - bodyStart < length) return { responses, partial: true };
      body = buffer.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    } else if (encodings.length) {
      const chunks: Buffer[] = [];
      let p = bodyStart;
      for (;;) {
        const lineEnd = buffer.indexOf("\r\n", p);
        if (lineEnd < 0) return { responses, partial: true };
        const sizeLine = buffer.subarray(p, lineEnd).toString("latin1");
        if (!/^[0-9a-fA-F]{1,8}(;.*)?$/.test(sizeLine)) throw new Malformed(`chunk size line ${JSON.stringify(sizeLine)}`);
        const size = parseInt(sizeLine, 16);
        if (size === 0) {
          const trailerEnd = buffer.indexOf("\r\n\r\n", lineEnd);
          if (buffer.subarray(lineEnd, lineEnd + 4).toString("latin1") === "\r\n\r\n") {
            p = lineEnd + 4;
          } else {
            if (trailerEnd < 0) return { responses, partial: true };
            p = trailerEnd + 4;
          }
          break;
        }
        if (buffer.length < lineEnd + 2 + size + 2) return { responses, partial: true };
        chunks.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        if (buffer.subarray(lineEnd + 2 + size, lineEnd + 4 + size).toString("latin1") !== "\r\n")
          throw new Malformed("chunk data not followed by CRLF");
        p = lineEnd + 4 + size;
      }
      body = Buffer.concat(chunks);
      bodyStart = p;
    } else {
      // No length: the body runs to the close.
      if (!closed) return { responses, partial: true };
      body = buffer.subarray(bodyStart);
      bodyStart = buffer.length;
    }
    responses.push({ status: code, lines, headers, body, interim });
    if (!interim) finals++;
    at = bodyStart;
  }
  return { responses, partial: false };
}

function show(bytes: Buffer, max = 1_500): string {
  const text = JSON.stringify(bytes.toString("latin1"));
  return text.length > max ? `${text.slice(0, max)}… (${bytes.length} bytes)` : text;
}

// ---------------------------------------------------------------------------
// One request on its own socket.

interface Outcome {
  data: Buffer;
  closedByServer: boolean;
  timedOut: boolean;
  responses: ParsedResponse[];
  partial: boolean;
  malformed?: string;
}

function exchange(port: number, built: Built, g: Generated, methods: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let settled = false;
    let closedByServer = false;
    let idle: NodeJS.Timeout | undefined;
    const timers: NodeJS.Timeout[] = [];
    const state = () => {
      try {
        return { ...parseResponses(data, methods, closedByServer), malformed: undefined };
      } catch (error) {
        if (error instanceof Malformed) return { responses: [], partial: false, malformed: error.message };
        throw error;
      }
    };
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      if (idle) clearTimeout(idle);
      socket.destroy();
      resolve({ data, closedByServer, timedOut, ...state() });
    };
    const evaluate = () => {
      const { responses, partial, malformed } = state();
      if (malformed) return finish(false);
      const finals = responses.filter((r) => !r.interim).length;
      if (idle) clearTimeout(idle);
      if (finals >= built.expectedResponses && !partial) idle = setTimeout(() => finish(false), IDLE_MS);
    };
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      evaluate();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closedByServer = !settled;
      finish(false);
    });
    socket.on("connect", () => {
      // The bytes in a few writes, so the parser also sees them arrive in pieces.
      const points = [...new Set(g.cuts.map((c) => Math.floor(c * built.bytes.length)))]
        .filter((p) => p > 0 && p < built.bytes.length)
        .sort((a, b) => a - b);
      let from = 0;
      const writeNext = (i: number) => {
        if (settled || socket.destroyed) return;
        const to = i < points.length ? points[i] : built.bytes.length;
        socket.write(built.bytes.subarray(from, to));
        from = to;
        if (i < points.length) setImmediate(() => writeNext(i + 1));
      };
      writeNext(0);
    });
    timers.push(setTimeout(() => finish(true), READ_CAP_MS));
    if (built.mayHang && !g.awaitTimeout)
      timers.push(
        setTimeout(() => {
          // Nothing to wait for but the server's own timeout: the client gives up, unless an answer is arriving.
          if (data.length === 0) finish(false);
        }, INCOMPLETE_WAIT_MS),
      );
  });
}

// ---------------------------------------------------------------------------
// The oracle.

/**
 * Node's HTTP parser answers some requests before the gateway sees them
 * (malformed request lines or headers, a missing Host on HTTP/1.1, header
 * overflow, its own request timeout): a bare `400 Bad Request`, `408`, `413`
 * (chunk extensions) or `431` with `Connection: close` and nothing else, then
 * it closes. Those are allowed without a JSON body, since no code of the
 * gateway can shape them. They carry no `x-request-id` (the gateway's first
 * stage sets one on everything it answers), no content type and no body.
 * Any other error, whoever produced it, must be the gateway's JSON.
 */
function isNodeParserAnswer(response: ParsedResponse): boolean {
  return (
    [400, 408, 413, 431].includes(response.status) &&
    response.body.length === 0 &&
    single(response, "connection")?.toLowerCase() === "close" &&
    !response.headers.has("x-request-id") &&
    !response.headers.has("content-type")
  );
}

function checkErrorBody(response: ParsedResponse, method: string, context: () => string): void {
  if (isNodeParserAnswer(response) || TOLERATED.includes(String(response.status))) return;
  const type = single(response, "content-type") ?? "";
  assert.match(type, /^application\/json\b/, `a ${response.status} without a JSON content type\n${context()}`);
  if (method === "HEAD") return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString("utf8"));
  } catch {
    assert.fail(`a ${response.status} whose body is not JSON: ${show(response.body)}\n${context()}`);
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
  assert.ok(
    error && typeof error.code === "string" && typeof error.message === "string" && Object.keys(parsed as object).length === 1,
    `a ${response.status} whose body is not {"error":{"code","message"}}: ${show(response.body)}\n${context()}`,
  );
  assert.equal(
    ERROR_STATUS[error.code as keyof typeof ERROR_STATUS],
    response.status,
    `error code ${String(error.code)} sent with status ${response.status}\n${context()}`,
  );
}

interface Stats {
  runs: number;
  statuses: Map<string, number>;
  arrivals: number;
  byRoute: Map<string, number>;
  nodeParser: number;
  closedWithoutAnswer: number;
  gaveUp: number;
  timedOut: number;
  pipelinedArrivals: number;
}

describe("raw HTTP property: generated requests against a live gateway", function () {
  this.timeout(300_000);
  const arrivals: Arrival[] = [];
  const anomalies: string[] = [];
  const central = new CountingUpstream("central", arrivals, anomalies);
  const edge = new CountingUpstream("edge", arrivals, anomalies);
  let port = 0;
  let base = "";
  let close: (() => Promise<void>) | undefined;
  let startedAt = 0;

  before(async () => {
    await central.start();
    await edge.start();
    // startGateway reads only `url` of its upstreams (endpointsFor), which the counting upstream has too.
    const started = await startGateway(gatewaySpec(), central as unknown as StubUpstream, edge as unknown as StubUpstream, SETTINGS);
    base = started.base;
    close = started.close;
    port = Number(new URL(base).port);
    startedAt = Date.now();
  });
  after(async () => {
    await close?.();
    await central.close();
    await edge.close();
  });

  async function healthy(): Promise<void> {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(response.status, 200, "GET /healthz after the generated requests");
    assert.deepEqual(await response.json(), { status: "ok" });
  }

  /** Each route's limit over every arrival so far: fixed windows (rate-limiter-flexible's), the first one opened after the gateway started. */
  function checkLimits(): void {
    const groups = new Map<string, { requests: number; times: number[] }>();
    for (const arrival of arrivals) {
      const facts = BY_UPSTREAM_PATH[arrival.path];
      if (!facts?.limit) continue;
      const by =
        facts.limit.by === "tenant" ? String(arrival.headers["x-cloudloom-tenant"]) : facts.limit.by === "address" ? "127.0.0.1" : "";
      const key = `${facts.route} ${by}`;
      const group = groups.get(key) ?? { requests: facts.limit.requests, times: [] };
      group.times.push(arrival.at);
      groups.set(key, group);
    }
    for (const [key, { requests, times }] of groups) {
      const first = times[0];
      const last = times[times.length - 1];
      // Windows of 60 s, disjoint: all within the first minute of the gateway is one window; otherwise the
      // span first..last touches at most floor(span / 60 s) + 2 of them.
      const windows = last - startedAt < 59_000 ? 1 : Math.floor((last - first) / 60_000) + 2;
      assert.ok(
        times.length <= requests * windows,
        `${key}: ${times.length} requests reached upstream in ${((last - first) / 1000).toFixed(1)} s, over ${requests} per minute`,
      );
    }
  }

  it("never crashes, answers well-formed HTTP with JSON errors, and passes upstream only authenticated, limited, framed requests", async () => {
    const stats: Stats = {
      runs: 0,
      statuses: new Map(),
      arrivals: 0,
      byRoute: new Map(),
      nodeParser: 0,
      closedWithoutAnswer: 0,
      gaveUp: 0,
      timedOut: 0,
      pipelinedArrivals: 0,
    };
    const seenMarkers = new Set<string>();
    const began = performance.now();

    await fc.assert(
      fc.asyncProperty(requestArb, async (g) => {
        stats.runs++;
        const built = build(g);
        const [outer] = built.requests;
        const methods = built.requests.map((r) => r.method);
        const before = arrivals.length;
        const outcome = await exchange(port, built, g, methods);
        const context = () =>
          [
            `request bytes: ${show(built.bytes)}`,
            `response bytes: ${show(outcome.data)}`,
            `closed by server: ${outcome.closedByServer}, timed out: ${outcome.timedOut}`,
          ].join("\n");

        if (process.env.PROPERTY_VERBOSE)
          console.log(
            `${show(built.bytes, 3000)}\n  -> ${outcome.responses.map((r) => r.status).join(",") || "-"} ${show(outcome.data, 200)}`,
          );

        // 2. Well-formed HTTP/1.1, no more responses than requests, nothing truncated.
        assert.equal(outcome.malformed, undefined, `malformed response: ${outcome.malformed}\n${context()}`);
        assert.ok(!(outcome.partial && outcome.closedByServer), `a truncated response\n${context()}`);
        const finals = outcome.responses.filter((r) => !r.interim);
        // Node's parser may add its bare 400 after a complete answer, when bytes after it (a body the gateway did not need,
        // answering early) do not parse: one more response, the last, and the connection closes.
        const extra = finals.length - built.requests.length;
        assert.ok(
          extra <= 0 || (extra === 1 && isNodeParserAnswer(finals[finals.length - 1]) && outcome.closedByServer),
          `${finals.length} responses to ${built.requests.length} requests\n${context()}`,
        );
        if (outcome.partial && outcome.timedOut) assert.fail(`a response still incomplete after ${READ_CAP_MS} ms\n${context()}`);
        finals.forEach((response, i) => {
          stats.statuses.set(String(response.status), (stats.statuses.get(String(response.status)) ?? 0) + 1);
          if (isNodeParserAnswer(response)) stats.nodeParser++;
          if (response.status >= 400) checkErrorBody(response, methods[i] ?? "GET", context);
          const id = single(response, "x-request-id");
          if (id !== undefined) {
            assert.match(id, WELL_FORMED_ID, `a malformed x-request-id came back\n${context()}`);
            // A kept id is the id of the request this response answers (responses stay in request order).
            const own = built.requests[i];
            if (/^(pt|sm)-/.test(id)) assert.equal(id, own?.marker, `response ${i} carries another request's id\n${context()}`);
            if (own && (i > 0 || g.marker === "plain"))
              assert.equal(id, own.marker, `response ${i} lost its well-formed x-request-id\n${context()}`);
          }
        });
        // Liveness: a request the bytes frame completely is answered (or its connection closed) within the cap; so is one
        // whose framing never completes, when the client waits for the gateway's request timeout.
        if (finals.length === 0 && outcome.timedOut && (!built.mayHang || g.awaitTimeout))
          assert.fail(`no answer and no close within ${READ_CAP_MS} ms\n${context()}`);
        if (outer.mustRefuse && finals[0])
          assert.ok(finals[0].status >= 400, `a refused framing answered ${finals[0].status}\n${context()}`);
        if (finals.length === 0) {
          if (outcome.timedOut) stats.timedOut++;
          else if (outcome.closedByServer) stats.closedWithoutAnswer++;
          else stats.gaveUp++;
        }

        // 3. What reached upstream during this request.
        const mine = arrivals.slice(before);
        const perRequest = new Map<SubRequest, number>();
        for (const arrival of mine) {
          stats.arrivals++;
          const where = `upstream ${arrival.upstream} got ${arrival.method} ${arrival.path} ${JSON.stringify(arrival.headers)} body ${show(arrival.body, 300)}\n${context()}`;
          const id = String(arrival.headers["x-request-id"]);
          // Attribution: by the id the request carried; a request whose id the gateway replaced (junk) by its window.
          let request = built.requests.find((r) => r.marker === id);
          if (!request && g.marker !== "plain" && WELL_FORMED_ID.test(id) && !/^(pt|sm)-/.test(id)) request = outer;
          assert.ok(request, `an upstream request no generated request accounts for (id ${id}): ${where}`);
          assert.ok(!seenMarkers.has(`${id}`) || !/^(pt|sm)-/.test(id), `a second upstream request for ${id}: ${where}`);
          seenMarkers.add(id);
          perRequest.set(request, (perRequest.get(request) ?? 0) + 1);
          assert.ok((perRequest.get(request) ?? 0) <= 1, `more than one upstream request for one request: ${where}`);
          if (request !== outer) stats.pipelinedArrivals++;
          assert.ok(request.standalone, `an embedded request reached upstream though the bytes frame it as a body: ${where}`);

          // The route, exactly as the request named it.
          const facts = BY_UPSTREAM_PATH[arrival.path.split("?")[0]];
          assert.ok(facts, `an upstream path no route has: ${where}`);
          stats.byRoute.set(facts.route, (stats.byRoute.get(facts.route) ?? 0) + 1);
          assert.equal(arrival.method, "POST", `upstream got method ${arrival.method}: ${where}`);
          assert.equal(request.method, "POST", `a ${JSON.stringify(request.method)} request reached a POST route: ${where}`);
          assert.equal(
            request.target.split("?")[0],
            facts.route,
            `target ${JSON.stringify(request.target)} reached ${facts.route}: ${where}`,
          );

          // Framing: refused framings never arrive; the body is what the framing carries, framed by its length.
          assert.ok(!request.mustRefuse && request.body, `a request whose framing must be refused reached upstream: ${where}`);
          assert.ok(arrival.complete, `the upstream request's body never ended: ${where}`);
          assert.equal(arrival.headers["transfer-encoding"], undefined, `transfer-encoding upstream: ${where}`);
          assert.equal(arrival.headers["content-length"], String(arrival.body.length), `content-length is not the body's length: ${where}`);
          assert.ok(
            arrival.body.equals(request.body),
            `upstream got body ${show(arrival.body, 300)}, the request framed ${show(request.body, 300)}: ${where}`,
          );

          // Credentials stay at the gateway; gateway headers are the gateway's.
          for (const name of Object.keys(arrival.headers)) {
            assert.ok(!NEVER_FORWARDED.includes(name) || TOLERATED.includes(name), `${name} forwarded: ${where}`);
            assert.ok(!name.startsWith("x-cloudloom-") || name === "x-cloudloom-tenant", `${name} forwarded: ${where}`);
          }
          const tenant = arrival.headers["x-cloudloom-tenant"];
          if (!facts.keyed) {
            assert.equal(tenant, "public", `tenant of a public route: ${where}`);
          } else if (!request.junk) {
            const key = presentedKey(request);
            assert.ok(key !== undefined && KEYS.includes(key), `a keyed route reached upstream without a valid key: ${where}`);
            assert.equal(tenant, tenantOf(key), `tenant is not the presented key's: ${where}`);
          } else {
            const carried = KEYS.filter((key) => request.raw.includes(key));
            assert.ok(carried.map(tenantOf).includes(String(tenant)), `tenant ${String(tenant)} from no key the request carried: ${where}`);
          }
        }
        assert.deepEqual(anomalies, [], `upstream anomalies\n${context()}`);
        checkLimits();
        if (stats.runs % HEALTH_EVERY === 0) await healthy();
      }),
      { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: 120_000 },
    );

    await healthy();
    checkLimits();
    const seconds = (performance.now() - began) / 1000;
    const sorted = (m: Map<string, number>) =>
      [...m]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}:${v}`)
        .join(" ");
    console.log(
      `      seed ${SEED}, ${stats.runs} requests in ${seconds.toFixed(1)} s; statuses ${sorted(stats.statuses)}; ` +
        `Node parser answers ${stats.nodeParser}, closed unanswered ${stats.closedWithoutAnswer}, given up ${stats.gaveUp}, timed out ${stats.timedOut}; ` +
        `upstream ${stats.arrivals} (${sorted(stats.byRoute)}), pipelined ${stats.pipelinedArrivals}`,
    );
  });
});
