/**
 * Holding requests while a target starts, as Knative's activator and the
 * KEDA HTTP add-on's interceptor do. A function or model version whose
 * scaling policy holds (`hold: { maxPending, maxWait }`) and that has no
 * ready backend (every region ejected or refusing connections, or, on the
 * local target, no instance loaded) keeps up to `maxPending` requests
 * waiting, each until `maxWait` after it arrived. While any wait, the
 * backends they would go to are woken every `wakeIntervalMs`: a remote one is
 * probed (a success readmits it), a local one starts an instance. The
 * moment any backend of the target is ready, every held request goes on. A
 * request beyond the cap is refused at once (HOLD_FULL), one past its wait
 * gets HOLD_TIMEOUT, both 503 with Retry-After; a client that goes away
 * frees its place at once.
 *
 * Each target also counts its requests held and in flight per region (the
 * region each would go to with every backend ready), which the gateway
 * publishes for the scaler: a request arriving at zero is what wakes it.
 */
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { holdRetryAfterSeconds, type HoldLimits } from "../../sdk/spec";
import { ServingError } from "../../runtime/contract";
import type { Backend } from "../backends/backend";
import { pickRegion, type RegionLevels } from "./locality";

/** Requests for one function or model version in one region, as its autoscaler reads them. */
export class Demand {
  /** Held until the target is ready. */
  pending = 0;
  /** Sent on (or served at once) and not finished. */
  inFlight = 0;

  constructor(
    readonly kind: "function" | "model",
    readonly entry: string,
    readonly region: string,
  ) {}
}

/** One held request. */
interface Waiter {
  resolve(): void;
  reject(error: ServingError): void;
  /** The client's response, watched for the client going away. */
  res?: ServerResponse;
  timer?: NodeJS.Timeout;
  onClose?: () => void;
}

/** True when a backend can take a request now. */
const isReady = (backend: Backend): boolean => backend.health.healthy && !backend.cold;

/** Every region counts as ready when finding where a request would go. */
const everyRegion = (): boolean => true;

/** The hold of one function or model version, shared by every route to it. */
export class TargetHold {
  /** Demand per region the target is placed in. */
  readonly demand: ReadonlyMap<string, Demand>;
  private readonly waiters = new Set<Waiter>();
  private readonly retryAfter: Record<string, string>;
  private waking = false;
  private closed = false;

  constructor(
    readonly kind: "function" | "model",
    readonly entry: string,
    readonly limits: HoldLimits,
    private readonly backends: readonly Backend[],
    private readonly levels: RegionLevels,
    private readonly wakeIntervalMs: number,
  ) {
    this.demand = new Map(backends.map((backend) => [backend.region, new Demand(kind, entry, backend.region)]));
    this.retryAfter = { "retry-after": String(holdRetryAfterSeconds(limits)) };
  }

  /** True when some backend can take a request now. */
  get ready(): boolean {
    for (let i = 0; i < this.backends.length; i++) if (isReady(this.backends[i])) return true;
    return false;
  }

  /** Requests held now. */
  get pending(): number {
    return this.waiters.size;
  }

  /** The demand a request from `locality` counts toward: the region it would go to with every backend ready. */
  demandOf(locality: string | undefined, turn: number): Demand {
    const region = pickRegion(this.levels, locality, everyRegion, 1, turn) ?? this.backends[0].region;
    return this.demand.get(region)!;
  }

  /**
   * Holds a request until the target is ready. Throws HOLD_FULL at once when
   * `maxPending` are held already; rejects with HOLD_TIMEOUT at `deadline`
   * (performance.now() time), and with CLIENT_CLOSED when `res`, if given,
   * closes first.
   */
  wait(res: ServerResponse | undefined, deadline: number): Promise<void> {
    if (this.waiters.size >= this.limits.maxPending)
      throw new ServingError("HOLD_FULL", `the target is starting and ${this.waiters.size} requests already wait for it`, this.retryAfter);
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw this.timedOut();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, res };
      waiter.timer = setTimeout(() => this.settle(waiter, this.timedOut()), remaining);
      if (res) {
        waiter.onClose = () => this.settle(waiter, new ServingError("CLIENT_CLOSED", "the client closed the connection while held"));
        res.once("close", waiter.onClose);
      }
      this.waiters.add(waiter);
      this.wakeWhileHeld();
    });
  }

  /** Stops waking backends (the configuration this hold belongs to is closing). */
  close(): void {
    this.closed = true;
  }

  /**
   * Wakes a backend that is not ready and that held requests would go to (a
   * local target loads no instance in a region nobody waits for); a failed
   * wake only means it is not ready yet.
   */
  private readonly wakeIfWanted = (backend: Backend): Promise<void> | undefined =>
    isReady(backend) || this.demand.get(backend.region)!.pending === 0 ? undefined : backend.wake?.().catch(() => undefined);

  private timedOut(): ServingError {
    return new ServingError("HOLD_TIMEOUT", `the target did not become ready within ${this.limits.maxWaitMs} ms`, this.retryAfter);
  }

  /** Ends a wait: it goes on without `error`, else fails with it. A waiter settles once. */
  private settle(waiter: Waiter, error?: ServingError): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    if (waiter.onClose) waiter.res?.off("close", waiter.onClose);
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  /** One loop per target while requests are held: wake what is not ready, release everyone once something is. */
  private wakeWhileHeld(): void {
    if (this.waking) return;
    this.waking = true;
    void this.wakeLoop();
  }

  private async wakeLoop(): Promise<void> {
    try {
      while (this.waiters.size > 0 && !this.closed) {
        if (!this.ready) await Promise.all(this.backends.map(this.wakeIfWanted));
        if (this.ready) {
          for (const waiter of [...this.waiters]) this.settle(waiter);
          return;
        }
        await sleep(this.wakeIntervalMs, undefined, { ref: false });
      }
    } finally {
      // At once, not a tick later: a request held again right after must start a loop of its own.
      this.waking = false;
    }
  }
}
