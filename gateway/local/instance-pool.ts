/**
 * A pool of warm instances between a policy's min and max. An instance serves
 * up to `slotsPerInstance` calls at once. When every slot is busy and the pool
 * is below max, a new instance starts (a measured cold start); at max, callers
 * wait in order. Instances above the floor unload after `idleWindowMs` idle,
 * which is how scale-to-zero happens.
 */

/** Sizing and lifecycle of one pool. */
export interface InstancePoolOptions<T> {
  min: number;
  max: number;
  slotsPerInstance: number;
  /** Idle time after which an instance above `min` unloads. */
  idleWindowMs: number;
  load: () => Promise<T>;
  unload?: (instance: T) => Promise<void> | void;
  /** Called after every cold start with its duration. */
  onColdStart?: (ms: number) => void;
}

interface Slot<T> {
  instance: T;
  busy: number;
  idleTimer?: NodeJS.Timeout;
}

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
  private readonly waiters: Array<(lease: Lease<T>) => void> = [];

  constructor(private readonly options: InstancePoolOptions<T>) {}

  /** Instances loaded now. */
  get size(): number {
    return this.slots.length;
  }

  /** Starts the floor of `min` instances. */
  async warm(): Promise<void> {
    const missing = Math.max(0, this.options.min - this.slots.length - this.starting);
    await Promise.all(Array.from({ length: missing }, () => this.start().then((slot) => this.park(slot))));
  }

  /** A slot on a warm instance, or a new instance, or a wait for one. */
  async acquire(): Promise<Lease<T>> {
    const free = this.slots.find((s) => s.busy < this.options.slotsPerInstance);
    if (free) return this.lease(free, false, 0);
    if (this.slots.length + this.starting < this.options.max) {
      const began = performance.now();
      const slot = await this.start();
      return this.lease(slot, true, performance.now() - began);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Returns a lease's slot; the instance may go idle and later unload. */
  release(lease: Lease<T>): void {
    const slot = lease.slot as Slot<T>;
    slot.busy--;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.lease(slot, false, 0));
      return;
    }
    this.park(slot);
  }

  /** Unloads everything, for shutdown. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const slot of slots) clearTimeout(slot.idleTimer);
    await Promise.all(slots.map((slot) => this.options.unload?.(slot.instance)));
  }

  private async start(): Promise<Slot<T>> {
    this.starting++;
    const began = performance.now();
    try {
      const instance = await this.options.load();
      this.options.onColdStart?.(performance.now() - began);
      const slot: Slot<T> = { instance, busy: 0 };
      this.slots.push(slot);
      return slot;
    } finally {
      this.starting--;
    }
  }

  private lease(slot: Slot<T>, cold: boolean, coldStartMs: number): Lease<T> {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.busy++;
    return { instance: slot.instance, cold, coldStartMs, slot };
  }

  private park(slot: Slot<T>): void {
    if (slot.busy > 0 || this.slots.length <= this.options.min) return;
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.busy > 0 || this.slots.length <= this.options.min) return;
      this.slots.splice(this.slots.indexOf(slot), 1);
      void this.options.unload?.(slot.instance);
    }, this.options.idleWindowMs);
    slot.idleTimer.unref();
  }
}
