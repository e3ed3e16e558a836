/**
 * Serves one model version in one region: a pool of onnxruntime sessions
 * made from the verified artifact, fed by a dynamic batcher. Sessions run on
 * the execution providers chosen for the model (CUDA on a GPU pool, falling
 * back to the CPU with one warning; see execution-provider.ts).
 */
import type { Context } from "@opentelemetry/api";
import * as ort from "onnxruntime-node";
import pino from "pino";
import type { ModelSpec } from "../sdk/spec";
import { DynamicBatcher } from "./batcher";
import { ServingError } from "./contract";
import { chooseExecutionProviders, SessionFactory, type ExecutionProvider } from "./execution-provider";
import { InstancePool, type CallEvents, type PoolEvents } from "./instance-pool";
import { sampleSize, type Sample } from "./signature";
import type { PoolSizing } from "./sizing";
import type { ModelTracing } from "./tracing";

/** One sample's outputs and how it was served. */
export interface Prediction {
  outputs: Record<string, Float32Array>;
  cold: boolean;
  coldStartMs: number;
}

/** Hooks for metrics (the pool's, calls served, batch sizes and queue waits) and traces. */
export interface ModelHostEvents extends PoolEvents, CallEvents {
  onBatch?: (size: number) => void;
  /** How long one request waited in the batch queue (ms). */
  onQueueWait?: (ms: number) => void;
  /** The spans of each prediction's queue wait and each batch's run; none, no spans. */
  trace?: ModelTracing;
  /** Where the one line about falling back to the CPU goes. @default a JSON log line on stdout */
  warn?: (message: string) => void;
}

/** The log line of a fallback when the host was given nowhere else to say it. */
const defaultWarn = (message: string) => pino({ level: process.env.LOG_LEVEL ?? "info" }).warn(message);

/** A model version's batcher and session pool in one region. */
export class ModelHost {
  private readonly pool: InstancePool<ort.InferenceSession>;
  private readonly batcher: DynamicBatcher<Sample, Prediction>;
  private readonly sessions: SessionFactory;
  /** Batches run so far (one `session.run` each). */
  batchesRun = 0;

  constructor(
    readonly spec: ModelSpec,
    artifact: Uint8Array,
    sizing: PoolSizing,
    batching: { maxBatchSize: number; maxDelayMs: number; maxQueue: number },
    private readonly events: ModelHostEvents = {},
    providers: ExecutionProvider[] = chooseExecutionProviders(spec),
  ) {
    this.sessions = new SessionFactory(providers, events.warn ?? defaultWarn, `model ${spec.name}@${spec.version}`);
    this.pool = new InstancePool({
      ...sizing,
      slotsPerInstance: 1,
      load: () => this.sessions.session(artifact, { intraOpNumThreads: 1, interOpNumThreads: 1 }),
      unload: (session) => session.release(),
      onColdStart: events.onColdStart,
      onCall: events.onCall,
      onPrewarm: events.onPrewarm,
      onWarmIdle: events.onWarmIdle,
    });
    this.batcher = new DynamicBatcher({ ...batching, concurrency: sizing.max, onDequeue: events.onQueueWait }, (samples) =>
      this.runBatch(samples),
    );
  }

  /** Loaded sessions now. */
  get instances(): number {
    return this.pool.size;
  }

  /** The execution providers sessions are created with now. */
  get executionProviders(): readonly ExecutionProvider[] {
    return this.sessions.providers;
  }

  /** Requests waiting for a batch. */
  get queueDepth(): number {
    return this.batcher.depth;
  }

  /** Loads one session when none is loaded (see InstancePool.warmOne); resolves once one is. */
  warmOne(): Promise<void> {
    return this.pool.warmOne();
  }

  /** Starts the policy's floor of sessions. */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  /** Runs one sample (batched with concurrent ones); traced, its wait and run are spans under `within`. */
  predict(sample: Sample, within?: Context): Promise<Prediction> {
    const trace = this.events.trace;
    if (!trace || !within) return this.batcher.submit(sample);
    return trace.queued(sample, within, () => this.batcher.submit(sample));
  }

  /** Releases every session. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private async runBatch(samples: Sample[]): Promise<Prediction[]> {
    const lease = await this.pool.acquire();
    try {
      this.batchesRun++;
      this.events.onBatch?.(samples.length);
      this.events.onServed?.(samples.length, lease.cold);
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, tensor] of Object.entries(this.spec.signature.inputs)) {
        const size = sampleSize(tensor);
        const data = new Float32Array(samples.length * size);
        samples.forEach((sample, i) => data.set(sample[name], i * size));
        feeds[name] = new ort.Tensor("float32", data, [samples.length, ...tensor.shape.slice(1)]);
      }
      let results: ort.InferenceSession.ReturnType;
      try {
        const trace = this.events.trace;
        results = await (trace ? trace.run(samples, () => lease.instance.run(feeds)) : lease.instance.run(feeds));
      } catch (error) {
        // The session failed at run time (a shape the graph refuses, an operator error): the request's
        // failure, not a slow or unreachable backend, so 500 MODEL_FAILED, with the cause for the log.
        throw Object.assign(new ServingError("MODEL_FAILED", `model ${this.spec.name}@${this.spec.version} failed to run`), {
          cause: error,
        });
      }
      return samples.map((_, i) => {
        const outputs: Record<string, Float32Array> = {};
        for (const [name, tensor] of Object.entries(this.spec.signature.outputs)) {
          const size = sampleSize(tensor);
          outputs[name] = (results[name].data as Float32Array).slice(i * size, (i + 1) * size);
        }
        return { outputs, cold: lease.cold, coldStartMs: lease.coldStartMs };
      });
    } finally {
      this.pool.release(lease);
    }
  }
}
