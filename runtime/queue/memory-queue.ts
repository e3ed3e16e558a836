/**
 * The in-process queue: what the local target queues asynchronous calls in
 * when it has no Redis. It keeps BullMQ's semantics (retries with the
 * route's backoff, an attempt timeout applied by the work it runs, retention
 * of finished invocations, a dead-letter state), but its jobs live in this
 * process's memory: they are lost when it stops, and `durable` says so.
 */
import { LRUCache } from "lru-cache";
import { retryDelayMs, toMilliseconds, type AsyncSpec } from "../../sdk/spec";
import { ServingError, type AsyncJob, type InvocationQueue, type InvocationRecord, type InvocationResult } from "../contract";
import { AttemptFailure } from "./attempt";
import { answeredState, exhaustedState } from "./states";

/** Runs one attempt of a job: resolves with the entry's answer, rejects when the attempt failed. */
export type Work = (job: AsyncJob) => Promise<InvocationResult>;

/** How a queue's jobs are worked. */
export interface WorkOptions {
  /** Attempts run at once. */
  concurrency: number;
  /** Told of every failed attempt (its cause included, for the log) and whether it was the last. */
  onAttemptFailed?: (job: AsyncJob, failure: AttemptFailure, final: boolean) => void;
}

/** Jobs held at most (queued, running or waiting out a backoff); more are refused with QUEUE_FULL. */
const DEFAULT_MAX_JOBS = 10_000;

interface Held {
  record: InvocationRecord;
  job: AsyncJob;
  retry?: NodeJS.Timeout;
}

/** One entry's queue, in this process. */
export class MemoryQueue implements InvocationQueue {
  readonly durable = false;
  private readonly live = new Map<string, Held>();
  private readonly finished: LRUCache<string, InvocationRecord>;
  private readonly ready: string[] = [];
  private readonly retentionMs: number;
  private running = 0;
  private closed = false;
  private drained?: () => void;

  constructor(
    private readonly settings: AsyncSpec,
    private readonly work: Work,
    private readonly options: WorkOptions & { maxJobs?: number },
  ) {
    this.retentionMs = toMilliseconds(settings.retention);
    this.finished = new LRUCache({ max: options.maxJobs ?? DEFAULT_MAX_JOBS, ttl: this.retentionMs });
  }

  async submit(job: AsyncJob): Promise<void> {
    if (this.closed) throw new ServingError("QUEUE_UNAVAILABLE", "the queue is shutting down; retry shortly", { "retry-after": "1" });
    if (this.live.has(job.id) || this.finished.has(job.id)) return;
    if (this.live.size >= (this.options.maxJobs ?? DEFAULT_MAX_JOBS))
      throw new ServingError("QUEUE_FULL", `${this.live.size} jobs are waiting in this in-process queue; retry shortly`, {
        "retry-after": "1",
      });
    this.live.set(job.id, { job, record: { id: job.id, tenant: job.tenant, state: "queued", attempts: 0, submittedAt: job.submittedAt } });
    this.ready.push(job.id);
    this.pump();
  }

  async read(id: string): Promise<InvocationRecord | undefined> {
    const record = this.live.get(id)?.record ?? this.finished.get(id);
    return record && structuredClone(record);
  }

  /** Stops taking jobs and retries, and resolves once the attempts running now have ended. */
  async close(): Promise<void> {
    this.closed = true;
    for (const held of this.live.values()) clearTimeout(held.retry);
    if (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.ready.length > 0) void this.attempt(this.ready.shift()!);
  }

  private async attempt(id: string): Promise<void> {
    const held = this.live.get(id)!;
    const { record, job } = held;
    if (Date.now() - job.submittedAt > this.retentionMs) {
      record.error = { code: "INVOCATION_EXPIRED", message: `the job waited longer than its retention (${this.settings.retention})` };
      return this.finish(held, exhaustedState(this.settings));
    }
    this.running++;
    record.state = "running";
    record.attempts++;
    record.startedAt = Date.now();
    try {
      const result = await this.work(job);
      record.result = result;
      delete record.error;
      this.finish(held, answeredState(result.status));
    } catch (error) {
      const failure = AttemptFailure.of(error);
      record.error = { code: failure.code, message: failure.message };
      const final = record.attempts > this.settings.retries;
      this.options.onAttemptFailed?.(job, failure, final);
      if (final) this.finish(held, exhaustedState(this.settings));
      else {
        record.state = "queued";
        held.retry = setTimeout(
          () => {
            this.ready.push(id);
            this.pump();
          },
          retryDelayMs(this.settings, record.attempts),
        );
      }
    } finally {
      this.running--;
      if (this.closed && this.running === 0) this.drained?.();
      this.pump();
    }
  }

  private finish(held: Held, state: InvocationRecord["state"]): void {
    held.record.state = state;
    held.record.finishedAt = Date.now();
    this.live.delete(held.record.id);
    this.finished.set(held.record.id, held.record);
  }
}
