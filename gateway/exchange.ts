/**
 * One request's way through the pipeline: the request and response, and what
 * the stages learn about it (route, caller, body, target), in one object that
 * every stage reads and adds to. Its fields are all set up front so each
 * exchange has the same shape, which keeps the hot path monomorphic.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HELD_HEADER } from "../runtime/contract";
import { forwardedHeaders, type BackendRequest, type BufferedResponse } from "./backends/backend";
import type { CompiledRoute, CompiledTarget, RouteTable } from "./route-table";
import type { Demand, TargetHold } from "./routing/hold";
import type { AccessRecord } from "./stages/observe";
import type { RequestTrace } from "./tracing";

const EMPTY = Buffer.alloc(0);
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);

/** One step of the request path, made once by its factory and run for every request. */
export interface Stage {
  /**
   * Acts on the exchange. A stage that answers the request ends the path;
   * one that refuses it throws a ServingError, which becomes the error response.
   */
  run?(exchange: Exchange): void | Promise<void>;
  /** Runs once the response is out, answered or failed, for every stage in order: releases what `run` took, records what happened. */
  finish?(exchange: Exchange): void;
}

/** A request in flight, and what the stages found out about it. */
export class Exchange {
  /** When the gateway took the request (performance.now()). */
  readonly started = performance.now();
  /** The access-log line, filled in as the request goes. */
  readonly record: AccessRecord;
  /** The matched route; set by the route match (undefined before it). */
  route!: CompiledRoute;
  /** The invocation id a status request reads (`GET /v1/invocations/{id}`); undefined for every other request. */
  invocation: string | undefined = undefined;
  /** The client's address under the trust-proxy setting. */
  client = "";
  /** The caller whose concurrency slot this request holds, until it finishes. */
  slot: string | undefined = undefined;
  /** The request body, read whole. */
  body: Buffer = EMPTY;
  /** The function or model version this request goes to; set by the locality-and-version stage (undefined before it). */
  target!: CompiledTarget;
  /** The client's locality, when known. */
  locality: string | undefined = undefined;
  /** This request's turn, which spreads load over equally near regions. */
  turn = 0;
  /** True once a stage has sent the whole response. */
  answered = false;
  /** The demand this request counts in flight toward, once its target's hold let it go on (undefined for targets that do not hold). */
  demand: Demand | undefined = undefined;
  /** How long the request was held while its target started, in all (ms). */
  heldMs = 0;
  /** The request's spans, when the gateway traces (undefined with tracing off). */
  trace: RequestTrace | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The route table of the configuration this request started on. */
    readonly table: RouteTable,
  ) {
    this.record = { id: "", method: req.method ?? "GET", route: "unmatched", status: 0, ms: 0, tenant: "public" };
  }

  /**
   * The request as a backend takes it (the caller's credentials and any x-cloudloom-* header a client
   * wrote stay with the gateway, and so do `withheld` headers).
   */
  backendRequest(withheld?: ReadonlySet<string>): BackendRequest {
    const url = this.req.url ?? "/";
    const query = url.indexOf("?");
    return {
      method: this.req.method ?? "POST",
      path: url,
      headers: forwardedHeaders(this.req.headers, this.record.id, this.record.tenant, withheld),
      query: query < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(query + 1))),
      body: this.body,
      requestId: this.record.id,
      tenant: this.record.tenant,
    };
  }

  /**
   * Waits, held by `hold`, until the target is ready (at most until the
   * policy's maxWait after the request arrived), then counts the request in
   * flight; says how long it waited in HELD_HEADER, whether it then goes on
   * or times out. Throws and rejects as TargetHold.wait does; with
   * `watchClient` false (a call other requests share), it waits on when this
   * request's client goes away.
   */
  async holdUntilReady(hold: TargetHold, watchClient = true): Promise<void> {
    const demand = this.demand ?? hold.demandOf(this.locality, this.turn);
    // A request held again after a refused call is pending, not in flight, while it waits.
    if (this.demand) demand.inFlight--;
    this.demand = undefined;
    // Counted before it waits: the hold wakes the regions held requests would go to.
    demand.pending++;
    const began = performance.now();
    let waited = false;
    try {
      // Throws at once when the hold is full: that request never waited, and says nothing of it.
      const held = hold.wait(watchClient ? this.res : undefined, this.started + hold.limits.maxWaitMs);
      waited = true;
      await held;
    } finally {
      demand.pending--;
      if (waited) {
        this.heldMs += performance.now() - began;
        if (!this.res.headersSent) this.res.setHeader(HELD_HEADER, String(Math.round(this.heldMs)));
      }
    }
    demand.inFlight++;
    this.demand = demand;
  }

  /** Called with the region about to stream its response, before any header is sent. */
  streamingFrom(region: string): void {
    this.res.setHeader("x-cloudloom-region", region);
    this.record.region = region;
  }

  /** Sends a whole response from `region`, with `extra` headers over the upstream's. */
  answer(response: BufferedResponse, region: string, extra?: Record<string, string>): void {
    const res = this.res;
    for (const name in response.headers) if (!HOP.has(name) && name !== "set-cookie") res.setHeader(name, response.headers[name]);
    res.setHeader("x-cloudloom-region", region);
    if (extra) for (const name in extra) res.setHeader(name, extra[name]);
    res.setHeader("content-length", response.body.length);
    res.statusCode = response.status;
    res.end(response.body);
    this.answered = true;
  }
}
