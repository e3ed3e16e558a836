/**
 * Dynamic batching with no low-load penalty, the way serving systems do it:
 * a request that finds the model idle runs at once (at the end of the current
 * event-loop turn, so requests that arrived together go together); requests
 * that arrive while batches run form the next batch, which starts as soon as
 * a runner is free. With several runners, a free runner waits for more work
 * only while another is busy, and never longer than `maxDelayMs` after the
 * oldest waiting request arrived: the declared delay is an upper bound on
 * the wait batching adds, never a fixed window. Each caller gets its own
 * result back; a failing batch fails only its own requests; the queue is
 * bounded and refuses work beyond `maxQueue`.
 */
import { ServingError } from "./contract";

/** Limits of one batcher. */
export interface BatcherOptions {
  maxBatchSize: number;
  /** The longest a request waits for a batch to fill while a runner is free. */
  maxDelayMs: number;
  /** Requests waiting (not yet running) beyond which new ones are refused. */
  maxQueue: number;
  /** Batches that may run at once (the model's session threads). @default 1 */
  concurrency?: number;
  /** Hears, for each request a batch takes, how long it waited in the queue (ms). */
  onDequeue?: (waitedMs: number) => void;
}

/** Runs one batch; returns one result per sample, in order. */
export type BatchRunner<In, Out> = (samples: In[]) => Promise<Out[]>;

interface Pending<In, Out> {
  sample: In;
  /** When it was queued (ms since the epoch). */
  since: number;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/** Collects samples into batches for `run`. */
export class DynamicBatcher<In, Out> {
  private queue: Array<Pending<In, Out>> = [];
  private running = 0;
  private readonly concurrency: number;
  /** Releases a waiting batch at its `maxDelayMs` bound. */
  private timer: NodeJS.Timeout | undefined;
  private turnScheduled = false;
  private closed: ServingError | undefined;
  private drained: Array<() => void> = [];

  constructor(
    private readonly options: BatcherOptions,
    private readonly run: BatchRunner<In, Out>,
  ) {
    this.concurrency = options.concurrency ?? 1;
  }

  /** Requests waiting for a batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Queues one sample; resolves with its result. */
  submit(sample: In): Promise<Out> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.queue.length >= this.options.maxQueue) {
      const retryAfter = Math.max(1, Math.ceil(this.options.maxDelayMs / 1000));
      return Promise.reject(
        new ServingError("QUEUE_FULL", `the model queue is full (${this.options.maxQueue} waiting); retry shortly`, {
          "retry-after": String(retryAfter),
        }),
      );
    }
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ sample, since: Date.now(), resolve, reject });
      this.endOfTurn();
    });
  }

  /**
   * Refuses new samples with `refusal`, and resolves once every queued and
   * running batch has finished.
   */
  drain(refusal: ServingError): Promise<void> {
    this.closed ??= refusal;
    return new Promise((resolve) => {
      this.drained.push(resolve);
      this.settleDrain();
    });
  }

  /** Dispatches at the end of this event-loop turn, so samples submitted in the same turn share a batch. */
  private endOfTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      this.dispatch();
    });
  }

  /** Starts every batch that may start now, and arms the timer of one that must wait. */
  private dispatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.running < this.concurrency) {
      const waited = Date.now() - this.queue[0].since;
      const mayStart = this.running === 0 || this.queue.length >= this.options.maxBatchSize || waited >= this.options.maxDelayMs;
      if (!mayStart) {
        // Another runner is busy, so waiting may fill this batch; the oldest request sets the bound.
        this.timer = setTimeout(() => this.dispatch(), this.options.maxDelayMs - waited);
        return;
      }
      this.start(this.queue.splice(0, this.options.maxBatchSize));
    }
  }

  private start(batch: Array<Pending<In, Out>>): void {
    const onDequeue = this.options.onDequeue;
    if (onDequeue) {
      const now = Date.now();
      for (const pending of batch) onDequeue(now - pending.since);
    }
    this.running++;
    void this.execute(batch).finally(() => {
      this.running--;
      this.dispatch();
      this.settleDrain();
    });
  }

  private async execute(batch: Array<Pending<In, Out>>): Promise<void> {
    try {
      const results = await this.run(batch.map((p) => p.sample));
      batch.forEach((pending, index) => pending.resolve(results[index]));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  private settleDrain(): void {
    if (this.running > 0 || this.queue.length > 0) return;
    for (const resolve of this.drained.splice(0)) resolve();
  }
}
