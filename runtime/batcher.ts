/**
 * Dynamic batching: concurrent single-sample requests wait up to `maxDelayMs`
 * (or until `maxBatchSize` have arrived), run as one batch, and each caller
 * gets its own result back. A failing batch fails only its own requests; the
 * queue is bounded and refuses work beyond `maxQueue`.
 */
import { ServingError } from "./contract";

/** Limits of one batcher. */
export interface BatcherOptions {
  maxBatchSize: number;
  maxDelayMs: number;
  /** Requests waiting (not yet running) beyond which new ones are refused. */
  maxQueue: number;
  /** Batches that may run at once. @default 1 */
  concurrency?: number;
  /** Hears, for each request a batch takes, how long it waited in the queue (ms). */
  onDequeue?: (waitedMs: number) => void;
}

/** Runs one batch; returns one result per sample, in order. */
export type BatchRunner<In, Out> = (samples: In[]) => Promise<Out[]>;

interface Pending<In, Out> {
  sample: In;
  /** When it was queued (performance.now()). */
  queuedAt: number;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/** Collects samples into batches for `run`. */
export class DynamicBatcher<In, Out> {
  private queue: Array<Pending<In, Out>> = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private readonly concurrency: number;

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
    if (this.queue.length >= this.options.maxQueue) {
      const retryAfter = Math.max(1, Math.ceil(this.options.maxDelayMs / 1000));
      return Promise.reject(
        new ServingError("QUEUE_FULL", `the model queue is full (${this.options.maxQueue} waiting); retry shortly`, {
          "retry-after": String(retryAfter),
        }),
      );
    }
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ sample, queuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running >= this.concurrency) return;
    if (this.queue.length >= this.options.maxBatchSize) {
      this.flush();
    } else if (this.queue.length > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.options.maxDelayMs);
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0 || this.running >= this.concurrency) return;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    const onDequeue = this.options.onDequeue;
    if (onDequeue) {
      const now = performance.now();
      for (const pending of batch) onDequeue(now - pending.queuedAt);
    }
    this.running++;
    this.execute(batch).finally(() => {
      this.running--;
      this.schedule();
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
}
