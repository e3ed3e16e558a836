/**
 * Serves one model version in one region: a pool of onnxruntime sessions,
 * each in its own worker thread (session-thread.ts), made from the verified
 * artifact and fed by a dynamic batcher, so inference never holds the event
 * loop; nor does reading a request's JSON body, which the thread does. Sessions run on the execution providers chosen for the model (CUDA
 * on a GPU pool, falling back to the CPU with one warning; see
 * execution-provider.ts). A session thread that dies fails only the batch it
 * was running (MODEL_FAILED) and is replaced.
 */
import { availableParallelism } from "node:os";
import type { Context } from "@opentelemetry/api";
import pino from "pino";
import type { ModelSpec } from "../sdk/spec";
import { DynamicBatcher } from "./batcher";
import { ServingError } from "./contract";
import { chooseExecutionProviders, SessionFactory, type ExecutionProvider } from "./execution-provider";
import { InstancePool, type CallEvents, type Lease, type PoolEvents } from "./instance-pool";
import type { JsonRows, RunResult, Tensors } from "./session-protocol";
import { SessionThread } from "./session-thread";
import { sampleSize, type Sample } from "./signature";
import { sessionThreadSizing, type PoolSizing } from "./sizing";
import type { ModelTracing } from "./tracing";

/** One sample's outputs and how it was served. */
export interface Prediction {
  outputs: Record<string, Float32Array>;
  cold: boolean;
  coldStartMs: number;
}

/** Hooks for metrics (the pool's, calls served, batch sizes and queue waits) and traces. */
export interface ModelHostEvents extends PoolEvents, CallEvents {
  /** A batch of `size` samples is about to be handed to a session thread. */
  onBatch?: (size: number) => void;
  /** How long one request waited in the batch queue (ms). */
  onQueueWait?: (ms: number) => void;
  /** The spans of each prediction's queue wait and each batch's run; none, no spans. */
  trace?: ModelTracing;
  /** Where the one line about falling back to the CPU goes. @default a JSON log line on stdout */
  warn?: (message: string) => void;
}

/** One row of a batch: a sample read here, or a predict request's JSON body for the session thread to read. */
type Row = Sample | Uint8Array;

/** The log line of a fallback when the host was given nowhere else to say it. */
const defaultWarn = (message: string) => pino({ level: process.env.LOG_LEVEL ?? "info" }).warn(message);

/** A model version's batcher and session threads in one region. */
export class ModelHost {
  private readonly pool: InstancePool<SessionThread>;
  private readonly batcher: DynamicBatcher<Row, Prediction | ServingError>;
  private readonly sessions: SessionFactory<SessionThread>;
  private readonly label: string;
  /** Batches run so far (one `session.run` each). */
  batchesRun = 0;

  constructor(
    readonly spec: ModelSpec,
    artifact: Uint8Array,
    sizing: PoolSizing,
    batching: { maxBatchSize: number; maxDelayMs: number; maxQueue: number },
    private readonly events: ModelHostEvents = {},
    providers: ExecutionProvider[] = chooseExecutionProviders(spec),
    cores = availableParallelism(),
  ) {
    this.label = `model ${spec.name}@${spec.version}`;
    const warn = events.warn ?? defaultWarn;
    const threads = sessionThreadSizing(sizing, cores);
    SessionThread.prepare();
    this.sessions = new SessionFactory(providers, warn, this.label, (bytes, options) =>
      SessionThread.start({ artifact: bytes, options, inputs: spec.signature.inputs }, this.label),
    );
    this.pool = new InstancePool({
      ...sizing,
      min: threads.min,
      max: threads.max,
      slotsPerInstance: 1,
      load: () => this.startThread(artifact, threads.intraOpNumThreads),
      unload: (thread) => thread.close(),
      onColdStart: events.onColdStart,
      onCall: events.onCall,
      onPrewarm: events.onPrewarm,
      onWarmIdle: events.onWarmIdle,
      onBackgroundLoadFailed: (error) => warn(`${this.label}: could not start a session thread: ${(error as Error)?.message ?? error}`),
    });
    this.batcher = new DynamicBatcher({ ...batching, concurrency: threads.max, onDequeue: events.onQueueWait }, (samples) =>
      this.runBatch(samples),
    );
  }

  /** Session threads loaded now. */
  get instances(): number {
    return this.pool.size;
  }

  /** The session threads loaded now (for inspection and tests). */
  get threads(): readonly SessionThread[] {
    return this.pool.instances;
  }

  /** The execution providers sessions are created with now. */
  get executionProviders(): readonly ExecutionProvider[] {
    return this.sessions.providers;
  }

  /** Requests waiting for a batch. */
  get queueDepth(): number {
    return this.batcher.depth;
  }

  /** Loads one session thread when none is loaded (see InstancePool.warmOne); resolves once one is. */
  warmOne(): Promise<void> {
    return this.pool.warmOne();
  }

  /** Starts the policy's floor of session threads. */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  /** Runs one sample (batched with concurrent ones); traced, its wait and run are spans under `within`. */
  predict(sample: Sample, within?: Context): Promise<Prediction> {
    return this.traced(sample, within);
  }

  /**
   * Runs the sample of a predict request's JSON body, `{"inputs": {...}}`,
   * read in the session thread; rejects with BAD_JSON or INVALID_INPUT as
   * reading it here would.
   */
  predictBody(body: Uint8Array, within?: Context): Promise<Prediction> {
    return this.traced(body, within);
  }

  /**
   * Refuses new samples (MODEL_UNAVAILABLE), lets the queued and running
   * batches finish, then ends every session thread.
   */
  async close(): Promise<void> {
    await this.batcher.drain(
      new ServingError("MODEL_UNAVAILABLE", `model version ${this.spec.name}@${this.spec.version} is shutting down`),
    );
    await this.pool.close();
  }

  private async startThread(artifact: Uint8Array, intraOpNumThreads: number): Promise<SessionThread> {
    const thread = await this.sessions.session(artifact, { intraOpNumThreads, interOpNumThreads: 1 });
    thread.onExit(() => this.pool.evict(thread));
    return thread;
  }

  /** Submits `row`, its queue wait a span under `within` when the host traces. */
  private traced(row: Row, within: Context | undefined): Promise<Prediction> {
    const trace = this.events.trace;
    if (!trace || !within) return this.submit(row);
    return trace.queued(row, within, () => this.submit(row));
  }

  private async submit(row: Row): Promise<Prediction> {
    const result = await this.batcher.submit(row);
    if (result instanceof ServingError) throw result;
    return result;
  }

  private async runBatch(rows: Row[]): Promise<Array<Prediction | ServingError>> {
    const lease = await this.pool.acquire();
    try {
      const { inputs, json } = this.batchInputs(rows);
      this.batchesRun++;
      this.events.onBatch?.(rows.length);
      this.events.onServed?.(rows.length, lease.cold);
      let result: RunResult;
      try {
        const trace = this.events.trace;
        result = await (trace ? trace.run(rows, () => lease.instance.run(inputs, json)) : lease.instance.run(inputs, json));
      } catch (error) {
        // The session failed at run time (a shape the graph refuses, an operator error) or its thread died:
        // the request's failure, not a slow or unreachable backend, so 500 MODEL_FAILED, with the cause for the log.
        throw this.failed(error);
      }
      return this.predictions(result, rows.length, lease);
    } finally {
      this.pool.release(lease);
    }
  }

  /** One fresh buffer per input with the samples side by side, and the JSON bodies in one buffer, all to be transferred. */
  private batchInputs(rows: Row[]): { inputs: Tensors; json?: JsonRows } {
    const inputs: Tensors = {};
    for (const [name, tensor] of Object.entries(this.spec.signature.inputs)) {
      const size = sampleSize(tensor);
      const data = new Float32Array(rows.length * size);
      rows.forEach((row, i) => row instanceof Uint8Array || data.set(row[name], i * size));
      inputs[name] = { data, dims: [rows.length, ...tensor.shape.slice(1)] };
    }
    const bodies = rows.flatMap((row, i) => (row instanceof Uint8Array ? [{ row: i, body: row }] : []));
    if (bodies.length === 0) return { inputs };
    const bytes = new Uint8Array(bodies.reduce((sum, { body }) => sum + body.length, 0));
    let start = 0;
    const json: JsonRows = { bytes, rows: [] };
    for (const { row, body } of bodies) {
      bytes.set(body, start);
      json.rows.push({ row, start, end: start + body.length });
      start += body.length;
    }
    return { inputs, json };
  }

  /**
   * Each row's slice of every declared output, or its refusal; MODEL_FAILED
   * when the graph's outputs are not the declared ones.
   */
  private predictions({ outputs, rejected }: RunResult, count: number, lease: Lease<SessionThread>): Array<Prediction | ServingError> {
    const refused = new Map(rejected.map(({ row, code, message }) => [row, new ServingError(code, message)]));
    const declared =
      refused.size === count
        ? []
        : Object.entries(this.spec.signature.outputs).map(([name, tensor]) => {
            const size = sampleSize(tensor);
            const data = outputs[name]?.data;
            if (!(data instanceof Float32Array) || data.length !== count * size)
              throw this.failed(new Error(`output ${name} is not ${count}×${size} float32 values as the signature declares`));
            return { name, size, data };
          });
    return Array.from(
      { length: count },
      (_, i) =>
        refused.get(i) ?? {
          outputs: Object.fromEntries(declared.map(({ name, size, data }) => [name, data.subarray(i * size, (i + 1) * size)])),
          cold: lease.cold,
          coldStartMs: lease.coldStartMs,
        },
    );
  }

  private failed(cause: unknown): ServingError {
    return Object.assign(new ServingError("MODEL_FAILED", `${this.label} failed to run`), { cause });
  }
}
