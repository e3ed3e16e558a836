/**
 * The queues of an app's asynchronous entries, worked by the runtime in this
 * process: every entry on the local target, or a pod's own entry. Each one is
 * BullMQ on Redis when there is a Redis URL, the in-process queue otherwise;
 * the work of a job is one attempt on the runtime (attempt.ts), bounded by the
 * entry's attempt timeout, with as many at once as one instance serves
 * (a function's concurrency, a model's batch).
 */
import type { Logger } from "pino";
import { asyncEntries, asyncEntryKey, toMilliseconds, type AsyncEntry, type SpecV1 } from "../../sdk/spec";
import { queueName, type InvocationQueue } from "../contract";
import type { LocalRuntime } from "../runtime";
import { runAttempt, type AttemptFailure } from "./attempt";
import { BullmqQueue, BullmqWorker, type WorkerTimings } from "./bullmq-queue";
import { MemoryQueue, type WorkOptions } from "./memory-queue";

/** Attempts one worker runs at once for `entry`: what one instance serves. */
export function entryConcurrency(spec: SpecV1, entry: AsyncEntry): number {
  return entry.kind === "function" ? spec.functions[entry.name].concurrency : spec.models[entry.name].batching.maxBatchSize;
}

/** The work options of `entry` on `runtime`, failed attempts logged with their cause. */
function workOptions(spec: SpecV1, entry: AsyncEntry, logger: Logger): WorkOptions {
  return {
    concurrency: entryConcurrency(spec, entry),
    onAttemptFailed: (job, failure: AttemptFailure, final) =>
      logger[final ? "error" : "warn"](
        { invocation: job.id, entry: job.entry, code: failure.code, err: failure.cause ?? failure },
        final ? "asynchronous invocation failed its last attempt" : "asynchronous attempt failed; it will be retried",
      ),
  };
}

/** What the queues need besides the runtime. */
export interface EntryQueuesOptions {
  /** Queue on this Redis (BullMQ); absent, in this process's memory. */
  redisUrl?: string;
  logger: Logger;
  /** Only this entry (a pod's); absent, every asynchronous entry of the spec. */
  only?: { kind: "function" | "model"; name: string };
  /** Worker timings (BullMQ only). */
  timings?: WorkerTimings;
  /** Only work the queues (a pod: the gateway submits); needs `redisUrl`. */
  workOnly?: boolean;
}

/** The asynchronous entries' queues and their workers on one runtime. */
export class EntryQueues {
  /** False when the jobs live in this process's memory. */
  readonly durable: boolean;
  private readonly queues = new Map<string, MemoryQueue | BullmqQueue>();
  private readonly workers: BullmqWorker[] = [];

  constructor(runtime: LocalRuntime, options: EntryQueuesOptions) {
    const { spec } = runtime;
    this.durable = options.redisUrl !== undefined;
    const onError = (error: Error) => options.logger.warn({ err: error.message }, "queue connection");
    for (const [key, entry] of asyncEntries(spec)) {
      if (options.only && (options.only.kind !== entry.kind || options.only.name !== entry.name)) continue;
      const timeoutMs = toMilliseconds(entry.settings.timeout);
      const work = (job: Parameters<typeof runAttempt>[1]) => runAttempt(runtime, job, timeoutMs);
      const working = workOptions(spec, entry, options.logger);
      if (!options.redisUrl) {
        this.queues.set(key, new MemoryQueue(entry.settings, work, working));
        continue;
      }
      const name = queueName(spec.app, entry.kind, entry.name);
      if (!options.workOnly) this.queues.set(key, new BullmqQueue(name, entry.settings, options.redisUrl, onError));
      this.workers.push(new BullmqWorker(name, entry.settings, work, options.redisUrl, { ...working, ...options.timings, onError }));
    }
  }

  /** The queue of `entry`, for the gateway to submit to and read from. */
  queueFor(entry: AsyncEntry): InvocationQueue | undefined {
    return this.queues.get(asyncEntryKey(entry.kind, entry.name));
  }

  /** How many entries are queued or worked here. */
  get size(): number {
    return Math.max(this.queues.size, this.workers.length);
  }

  /** Resolves once every worker is connected. */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.ready()));
  }

  /** Stops the workers (waiting for their running jobs), then the queues. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
