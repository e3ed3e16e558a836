/**
 * A pool of warm instances between a policy's min and max. An instance serves
 * up to `slotsPerInstance` calls at once. When every slot is busy and the pool
 * is below max, a new instance starts (a measured cold start); at max, callers
 * wait in order. Instances above the floor unload after `idleWindowMs` idle,
 * which is how scale-to-zero happens.
 *
 * An instance that dies on its own (a crashed session thread) is evicted:
 * the pool forgets it and starts a replacement when the floor or a waiting
 * caller needs one.
 *
 * With a keep-alive policy (a scaling policy that declares `prewarm`), the
 * policy decides after every call: how long to keep the instance, or to
 * unload now and pre-warm one just before the next call it predicts.
 */
import type { KeepAlivePolicy, Window } from "../sdk/prewarm/policies";

/** What a pool reports, for metrics. */
export interface PoolEvents {
  /** After every cold start, with its duration (pre-warms and the floor included). */
  onColdStart?: (ms: number) => void;
  /** For every lease handed out: whether that call had to start its instance. */
  onCall?: (cold: boolean) => void;
  /** When the keep-alive policy loads an instance ahead of a predicted call. */
  onPrewarm?: (window: Window) => void;
  /** Seconds an instance stayed loaded without serving, when that stretch ends. */
  onWarmIdle?: (seconds: number) => void;
}

/** What a pool's host reports of the calls it serves, for metrics. */
export interface CallEvents {
  /** After `calls` calls (a function invocation; a model batch's samples) got an instance; `cold` when they waited for it to start. */
  onServed?: (calls: number, cold: boolean) => void;
}

/** Sizing and lifecycle of one pool. */
export interface InstancePoolOptions<T> extends PoolEvents {
  min: number;
  max: number;
  slotsPerInstance: number;
  /** Idle time after which an instance above `min` unloads. */
  idleWindowMs: number;
  /** Decides keep-alive and pre-warm windows from the idle times it observes. */
  keepAlive?: KeepAlivePolicy;
  load: () => Promise<T>;
  unload?: (instance: T) => Promise<void> | void;
  /** A load nobody waited on (a replacement, a pre-warm) failed; the next call that needs an instance tries again. */
  onBackgroundLoadFailed?: (error: unknown) => void;
}

interface Slot<T> {
  instance: T;
  busy: number;
  /** Set on an instance started for callers held until it is ready (warmOne): its first lease reports the cold start. */
  coldStartMs?: number;
  idleTimer?: NodeJS.Timeout;
  /** When the slot last became idle (ms since the epoch). */
  idleSince?: number;
}

const MINUTE_MS = 60_000;

/** What `acquire` hands out; pass it back to `release`. */
export interface Lease<T> {
  instance: T;
  /** True when this call had to start the instance. */
  cold: boolean;
  coldStartMs: number;
  slot: object;
}

/** Warm instances of one function or model in one region. */
export class InstancePool<T> {
  private readonly slots: Array<Slot<T>> = [];
  private starting = 0;
  private readonly waiters: Array<{ resolve: (lease: Lease<T>) => void; reject: (error: unknown) => void }> = [];
  private closed = false;
  /** The minute (since the epoch) of the latest call. */
  private lastMinute?: number;
  /** The instance warmOne is starting, until it is loaded. */
  private warming?: Promise<void>;
  private prewarmTimer?: NodeJS.Timeout;
  /** Idle window of the next parked instance: the policy's keep-alive, or the declared window. */
  private idleMs: number;

  constructor(private readonly options: InstancePoolOptions<T>) {
    this.idleMs = options.idleWindowMs;
  }

  /** Instances loaded now. */
  get size(): number {
    return this.slots.length;
  }

  /** The instances loaded now (for inspection and tests). */
  get instances(): readonly T[] {
    return this.slots.map((slot) => slot.instance);
  }

  /** Starts the floor of `min` instances. */
  async warm(): Promise<void> {
    const missing = Math.max(0, this.options.min - this.slots.length - this.starting);
    await Promise.all(Array.from({ length: missing }, () => this.start().then((slot) => this.park(slot))));
  }

  /**
   * Loads one instance when none is loaded or being loaded by this method,
   * and resolves once one is: the gateway holds a target's requests until
   * then, so a pool at zero starts once for all of them. The first call on
   * that instance reports the cold start it waited for.
   */
  warmOne(): Promise<void> {
    if (this.slots.length > 0) return Promise.resolve();
    const began = performance.now();
    this.warming ??= this.start()
      .then((slot) => {
        slot.coldStartMs = performance.now() - began;
        this.park(slot);
      })
      .finally(() => (this.warming = undefined));
    return this.warming;
  }

  /** A slot on a warm instance, or a new instance, or a wait for one. */
  async acquire(): Promise<Lease<T>> {
    if (this.closed) throw new Error("the pool is closed");
    this.observeCall();
    const free = this.slots.find((s) => s.busy < this.options.slotsPerInstance);
    if (free) return this.lease(free, false, 0);
    if (this.slots.length + this.starting < this.options.max) {
      const began = performance.now();
      const slot = await this.start();
      return this.lease(slot, true, performance.now() - began);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Returns a lease's slot; the instance may go idle and later unload. */
  release(lease: Lease<T>): void {
    const slot = lease.slot as Slot<T>;
    slot.busy--;
    if (!this.slots.includes(slot)) return; // evicted or unloaded while leased: nobody else gets it
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(this.lease(slot, false, 0));
      return;
    }
    if (this.options.keepAlive) this.follow(this.options.keepAlive.decide());
    this.park(slot);
  }

  /**
   * Forgets an instance that can no longer serve (its thread died), and
   * starts a replacement for the first waiting caller, or up to the floor.
   * An instance the pool does not hold (already unloaded) is ignored.
   */
  evict(instance: T): void {
    const slot = this.slots.find((s) => s.instance === instance);
    if (!slot) return;
    this.slots.splice(this.slots.indexOf(slot), 1);
    clearTimeout(slot.idleTimer);
    void this.options.unload?.(instance);
    if (this.closed) return;
    const waiter = this.slots.length + this.starting < this.options.max ? this.waiters.shift() : undefined;
    if (waiter) {
      const began = performance.now();
      this.start().then((next) => waiter.resolve(this.lease(next, true, performance.now() - began)), waiter.reject);
    } else {
      this.warm().catch((error) => this.closed || this.options.onBackgroundLoadFailed?.(error));
    }
  }

  /** Unloads everything, for shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("the pool closed before an instance was free"));
    clearTimeout(this.prewarmTimer);
    const slots = this.slots.splice(0);
    for (const slot of slots) clearTimeout(slot.idleTimer);
    await Promise.all(slots.map((slot) => this.options.unload?.(slot.instance)));
  }

  /**
   * Feeds the keep-alive policy the minutes since the previous call, once per
   * minute with calls, as the benchmark's replay does: calls within one
   * minute share it, and the policy learns idle times of 1 minute or more.
   */
  private observeCall(): void {
    const minute = Math.floor(Date.now() / MINUTE_MS);
    clearTimeout(this.prewarmTimer);
    if (this.options.keepAlive && this.lastMinute !== undefined && minute > this.lastMinute)
      this.options.keepAlive.observe(minute - this.lastMinute);
    this.lastMinute = minute;
  }

  /**
   * Applies a window: keep idle instances `keepAlive` minutes; or unload them
   * now and load one again `prewarm` minutes from now, for `keepAlive` minutes.
   */
  private follow(window: Window): void {
    const keepAliveMs = Math.max(1, window.keepAlive) * MINUTE_MS;
    this.idleMs = window.prewarm > 0 ? 0 : keepAliveMs;
    if (window.prewarm <= 0) return;
    this.prewarmTimer = setTimeout(() => {
      this.idleMs = keepAliveMs;
      if (this.slots.length + this.starting > 0) return;
      this.start().then(
        (slot) => {
          this.options.onPrewarm?.(window);
          this.park(slot);
        },
        (error) => this.closed || this.options.onBackgroundLoadFailed?.(error),
      );
    }, window.prewarm * MINUTE_MS);
    this.prewarmTimer.unref();
  }

  private async start(): Promise<Slot<T>> {
    this.starting++;
    const began = performance.now();
    try {
      const instance = await this.options.load();
      if (this.closed) {
        // Closed while it loaded: unload it rather than keep an instance nobody will release.
        await this.options.unload?.(instance);
        throw new Error("the pool closed while an instance was loading");
      }
      this.options.onColdStart?.(performance.now() - began);
      const slot: Slot<T> = { instance, busy: 0 };
      this.slots.push(slot);
      return slot;
    } finally {
      this.starting--;
    }
  }

  private lease(slot: Slot<T>, cold: boolean, coldStartMs: number): Lease<T> {
    this.options.onCall?.(cold);
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    this.endIdle(slot);
    slot.busy++;
    if (slot.coldStartMs !== undefined) {
      [cold, coldStartMs] = [true, slot.coldStartMs];
      slot.coldStartMs = undefined;
    }
    return { instance: slot.instance, cold, coldStartMs, slot };
  }

  private park(slot: Slot<T>): void {
    if (slot.busy > 0) return;
    slot.idleSince = Date.now();
    if (this.slots.length <= this.options.min) return;
    clearTimeout(slot.idleTimer);
    // An instance loaded for held callers waits out the declared window for them, whatever the keep-alive policy decided last.
    const idleMs = slot.coldStartMs === undefined ? this.idleMs : this.options.idleWindowMs;
    slot.idleTimer = setTimeout(() => {
      if (slot.busy > 0 || this.slots.length <= this.options.min) return;
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.endIdle(slot);
      void this.options.unload?.(slot.instance);
    }, idleMs);
    slot.idleTimer.unref();
  }

  /** Reports the stretch the slot spent loaded and idle. */
  private endIdle(slot: Slot<T>): void {
    if (slot.idleSince === undefined) return;
    this.options.onWarmIdle?.((Date.now() - slot.idleSince) / 1000);
    slot.idleSince = undefined;
  }
}
