/**
 * Asynchronous entries on Redis, through BullMQ: the queue the local target
 * (with --redis) and Kubernetes use. The gateway submits with BullmqQueue and
 * reads invocations back from it; the entry's workers (the local target's
 * runtime, or the entry's own pods) run them with BullmqWorker.
 *
 * BullMQ gives the durable parts: a job is retried `retries` times with the
 * route's backoff; a worker that dies mid-job loses its lock, and another
 * worker's stalled-job check puts the job back in the queue (a stall counts
 * as an attempt too, at most retries + 1 times); completed and failed jobs
 * are kept for the retention, then removed. A finished job is recorded once:
 * only the worker holding its lock can complete it.
 *
 * Job ids are the invocation ids, so a job is added at most once. A job that
 * failed every attempt stays in the failed set with its whole request when
 * the entry keeps a dead letter (an operator may retry it from there);
 * without one, its request is dropped and only its error remains.
 */
import { Job, Queue, UnrecoverableError, Worker, type JobState } from "bullmq";
import { toMilliseconds, type AsyncSpec } from "../../sdk/spec";
import { QUEUE_PREFIX, ServingError, type AsyncJob, type InvocationQueue, type InvocationRecord, type InvocationResult } from "../contract";
import { AttemptFailure } from "./attempt";
import type { Work, WorkOptions } from "./memory-queue";
import { answeredState, exhaustedState } from "./states";

/** How long a submission or a read may wait for Redis before it answers QUEUE_UNAVAILABLE. */
const QUEUE_DEADLINE_MS = 5_000;

/** What a failed attempt stores as the job's failedReason: the code and safe message, as JSON. */
const reasonOf = (failure: AttemptFailure) => JSON.stringify({ code: failure.code, message: failure.message });

function errorOf(reason: string | undefined): InvocationRecord["error"] {
  if (!reason) return undefined;
  try {
    const parsed = JSON.parse(reason) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === "string" && typeof parsed.message === "string") return { code: parsed.code, message: parsed.message };
  } catch {
    // A reason BullMQ wrote itself (a job stalled too often): its text has no internals of ours.
  }
  return { code: "FUNCTION_FAILED", message: reason };
}

/** Rejects with QUEUE_UNAVAILABLE when `operation` takes longer than the deadline (Redis down or stalled). */
async function withDeadline<T>(operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  operation.catch(() => undefined);
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new ServingError("QUEUE_UNAVAILABLE", "the queue's Redis does not answer; retry shortly", { "retry-after": "1" })),
      QUEUE_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([operation, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The state a BullMQ job state and its answer make. */
function stateOf(state: JobState | "unknown", job: Job, settings: AsyncSpec): InvocationRecord["state"] {
  if (state === "completed") return answeredState((job.returnvalue as InvocationResult).status);
  if (state === "failed") return exhaustedState(settings);
  return state === "active" ? "running" : "queued";
}

/** The gateway's side of one entry's BullMQ queue: submit, and read invocations back. */
export class BullmqQueue implements InvocationQueue {
  readonly durable = true;
  private readonly queue: Queue;
  private readonly retentionSeconds: number;

  constructor(
    name: string,
    private readonly settings: AsyncSpec,
    redisUrl: string,
    onError: (error: Error) => void = () => undefined,
  ) {
    this.retentionSeconds = Math.ceil(toMilliseconds(settings.retention) / 1_000);
    this.queue = new Queue(name, { connection: { url: redisUrl, maxRetriesPerRequest: 1, connectTimeout: 2_000 }, prefix: QUEUE_PREFIX });
    // Without a listener, a connection error would be an unhandled 'error' event: the deadline answers callers instead.
    this.queue.on("error", onError);
  }

  async submit(job: AsyncJob): Promise<void> {
    const { retries, backoff } = this.settings;
    await withDeadline(
      this.queue.add("invoke", job, {
        jobId: job.id,
        attempts: retries + 1,
        backoff: { type: backoff.strategy, delay: toMilliseconds(backoff.delay) },
        removeOnComplete: { age: this.retentionSeconds },
        removeOnFail: { age: this.retentionSeconds },
      }),
    );
  }

  async read(id: string): Promise<InvocationRecord | undefined> {
    return withDeadline(this.readNow(id));
  }

  /** Closes the queue's Redis connection. */
  close(): Promise<void> {
    return this.queue.close();
  }

  private async readNow(id: string): Promise<InvocationRecord | undefined> {
    // The state first, then the job: a job that finished in between shows its finish (finishedOn), and is read again.
    let state = await this.queue.getJobState(id);
    let job = await Job.fromId<AsyncJob, InvocationResult>(this.queue, id);
    if (!job || state === "unknown") return undefined;
    if (job.finishedOn !== undefined && state !== "completed" && state !== "failed") {
      state = await this.queue.getJobState(id);
      job = (await Job.fromId<AsyncJob, InvocationResult>(this.queue, id)) ?? job;
    }
    const data = job.data;
    const finished = state === "completed" || state === "failed";
    return {
      id,
      tenant: data.tenant,
      state: stateOf(state, job, this.settings),
      attempts: job.attemptsStarted,
      submittedAt: data.submittedAt,
      startedAt: job.processedOn,
      finishedAt: finished ? job.finishedOn : undefined,
      result: state === "completed" ? job.returnvalue : undefined,
      error: state === "completed" ? undefined : errorOf(job.failedReason),
    };
  }
}

/** Worker timings; BullMQ's defaults (30 s) unless a test or an operator shortens them. */
export interface WorkerTimings {
  /** How long a worker's lock on a job lasts without renewal: a dead worker's job runs again this long after. @default 30000 */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired. @default 30000 */
  stalledIntervalMs?: number;
}

/** An entry's workers on its BullMQ queue: run each job with `work`, retrying and recovering as the queue's settings say. */
export class BullmqWorker {
  private readonly worker: Worker<AsyncJob, InvocationResult>;
  private readonly retentionMs: number;

  constructor(
    name: string,
    private readonly settings: AsyncSpec,
    private readonly work: Work,
    redisUrl: string,
    private readonly options: WorkOptions & WorkerTimings & { onError?: (error: Error) => void },
  ) {
    this.retentionMs = toMilliseconds(settings.retention);
    this.worker = new Worker<AsyncJob, InvocationResult>(name, (job) => this.process(job), {
      connection: { url: redisUrl },
      prefix: QUEUE_PREFIX,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: settings.retries + 1,
    });
    this.worker.on("error", (error) => options.onError?.(error));
    this.worker.on("failed", (job) => void this.afterFailure(job));
  }

  /** Resolves once the worker is connected and taking jobs. */
  ready(): Promise<void> {
    return this.worker.waitUntilReady().then(() => undefined);
  }

  /** Stops taking jobs and waits for the running ones to finish (`force`: abandons them, as a dying process would). */
  close(force = false): Promise<void> {
    return this.worker.close(force);
  }

  private async process(job: Job<AsyncJob, InvocationResult>): Promise<InvocationResult> {
    const data = job.data;
    if (Date.now() - data.submittedAt > this.retentionMs)
      throw new UnrecoverableError(
        reasonOf(new AttemptFailure("INVOCATION_EXPIRED", `the job waited longer than its retention (${this.settings.retention})`)),
      );
    try {
      return await this.work(data);
    } catch (error) {
      const failure = AttemptFailure.of(error);
      this.options.onAttemptFailed?.(data, failure, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
      throw new Error(reasonOf(failure));
    }
  }

  /** A job that failed its last attempt keeps its request only when the entry has a dead letter. */
  private async afterFailure(job: Job<AsyncJob, InvocationResult> | undefined): Promise<void> {
    if (!job || job.finishedOn === undefined || this.settings.deadLetter) return;
    const dropped = { method: job.data.request.method, path: job.data.request.path, headers: {}, query: {}, body: "" };
    await job.updateData({ ...job.data, request: dropped }).catch((error: Error) => this.options.onError?.(error));
  }
}
