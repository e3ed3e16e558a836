/**
 * One onnxruntime session in its own worker thread (session-worker.ts), so
 * that `session.run` never holds the event loop: health checks, cache hits
 * and every other route keep answering while a model computes. Batches cross
 * the thread boundary as transferred buffers, not copies. A session opens in
 * a thread started ahead of need (one spare per process), so a cold start
 * costs the session's creation, not a thread's start.
 *
 * A thread that exits while batches are in flight (a crash, or a kill) fails
 * exactly those batches, and tells its listeners (the instance pool, which
 * replaces it); nothing it does can throw in the process that hosts it.
 */
import { extname, join } from "node:path";
import { Worker } from "node:worker_threads";
import {
  buffersOf,
  type JsonRows,
  type RunResult,
  type SessionThreadData,
  type Tensors,
  type ThreadMessage,
  type ToThread,
} from "./session-protocol";

/** The worker's code, once per process: see `workerSource`. */
let workerCode: string | undefined;

/**
 * How to start the worker: the compiled file next to this one, or, running
 * from TypeScript sources (a checkout, the runtime image), session-worker.ts
 * compiled once per process with esbuild and started as code, requiring its
 * modules from where the file is: a thread starts in about half the time
 * tsx's loader would take there. Either way the thread gets none of the
 * parent's execArgv (a loader registered there would start its own hooks
 * thread per worker).
 */
function workerSource(): { source: string; eval: boolean } {
  const file = join(__dirname, `session-worker${extname(__filename)}`);
  if (!file.endsWith(".ts")) return { source: file, eval: false };
  workerCode ??= `(function (require) {\n${compiled(file)}\n})(require("node:module").createRequire(${JSON.stringify(file)}));`;
  return { source: workerCode, eval: true };
}

/** `file` and what it imports of ours as one CommonJS script; packages stay `require`s. */
function compiled(file: string): string {
  // Loaded here, not at the top: compiled JavaScript (the package's dist/) never needs it.
  const { buildSync } = require("esbuild") as typeof import("esbuild");
  const { outputFiles } = buildSync({
    entryPoints: [file],
    bundle: true,
    packages: "external",
    platform: "node",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    write: false,
    logLevel: "silent",
  });
  return outputFiles[0].text;
}

/** A thread started ahead of need, onnxruntime loaded, no session yet: where the next session opens. */
let spare: { worker: Worker; detach: () => void } | undefined;

/** A new thread, onnxruntime loading in it; it holds the process open no more than an idle session thread would. */
function newThread(): NonNullable<typeof spare> {
  const { source, eval: isEval } = workerSource();
  const worker = new Worker(source, { eval: isEval, execArgv: [] });
  worker.unref();
  const ignore = () => {};
  const gone = () => spare?.worker === worker && (spare = undefined);
  worker.on("error", ignore);
  worker.on("exit", gone);
  return {
    worker,
    detach: () => {
      worker.off("error", ignore);
      worker.off("exit", gone);
    },
  };
}

/** The spare thread, or a new one when there is none (or it is gone). */
function takeSpare(): Worker {
  const taken = spare && spare.worker.threadId >= 0 ? spare : newThread();
  spare = undefined;
  taken.detach();
  return taken.worker;
}

/** Starts a spare thread unless there is one. */
function keepSpare(): void {
  spare ??= newThread();
}

interface InFlight {
  resolve: (result: RunResult) => void;
  reject: (error: Error) => void;
}

/** A session running in a worker thread. */
export class SessionThread {
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 0;
  private exitError: Error | undefined;
  private uncaught: Error | undefined;
  private readonly exitListeners: Array<(error: Error) => void> = [];
  /** The worker's thread id. */
  readonly threadId: number;

  private constructor(
    private readonly worker: Worker,
    private readonly label: string,
  ) {
    this.threadId = worker.threadId;
    // The thread keeps the process alive only while it owes an answer, as an in-process session would.
    worker.unref();
    worker.on("message", (message: ThreadMessage) => this.answer(message));
    worker.on("error", (error) => (this.uncaught = error));
    worker.on("exit", (code) => this.exited(code));
  }

  /**
   * Starts the process's spare thread, once (compiling the worker first when
   * running from sources), so that a cold start opens its session in a
   * thread that is already running instead of waiting for one to start: the
   * model host calls it when it is created. The spare is one idle thread per
   * process, whatever the number of models; a model scaled to zero holds no
   * thread and no session.
   */
  static prepare(): void {
    keepSpare();
  }

  /**
   * Opens a session in the spare thread (another spare starts once it is open) from
   * `data.artifact` (copied to the thread) with `data.options`; rejects with
   * onnxruntime's error when the session cannot be created, and the thread ends.
   */
  static start(data: SessionThreadData, label: string): Promise<SessionThread> {
    const worker = takeSpare();
    worker.ref();
    const open: ToThread = { kind: "open", data };
    worker.postMessage(open);
    const opened = new Promise<SessionThread>((resolve, reject) => {
      const failed = (error: Error) => {
        worker.off("message", first);
        worker.off("exit", early);
        worker.on("error", () => {}); // whatever it throws while it ends has been reported
        void worker.terminate();
        reject(error);
      };
      const early = (code: number) => failed(new Error(`${label}: the session thread exited (code ${code}) before its session loaded`));
      const first = (message: ThreadMessage) => {
        worker.off("message", first);
        worker.off("error", failed);
        worker.off("exit", early);
        if (message.kind === "ready") resolve(new SessionThread(worker, label));
        else failed(new Error(message.kind === "load-failed" ? message.message : `${label}: unexpected ${message.kind} message`));
      };
      worker.on("message", first);
      worker.once("error", failed);
      worker.on("exit", early);
    });
    // The next spare starts once this session is open, not while it opens: the two would share the CPU.
    void opened.then(keepSpare, keepSpare);
    return opened;
  }

  /**
   * Runs one batch: `inputs` holds every row, `json` the rows still to be
   * read from request bodies in the thread. Their buffers are transferred
   * (detached here) and must not be views into a larger shared buffer; the
   * outputs come back the same way. Rejects with the session's error, or
   * when the thread exits first.
   */
  run(inputs: Tensors, json?: JsonRows): Promise<RunResult> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      if (this.inFlight.size === 1) this.worker.ref();
      const message: ToThread = { kind: "run", id, inputs, json };
      this.worker.postMessage(message, json ? [...buffersOf(inputs), json.bytes.buffer as ArrayBuffer] : buffersOf(inputs));
    });
  }

  /** Calls `listener` once the thread has exited (at once if it has), with why. */
  onExit(listener: (error: Error) => void): void {
    if (this.exitError) listener(this.exitError);
    else this.exitListeners.push(listener);
  }

  /**
   * Ends the thread once the batches sent before are answered: it releases
   * its session and exits. Never `worker.terminate()` on a session thread
   * that may be inside `session.run`: onnxruntime-node 1.30 then throws a C++
   * exception as the run returns into a stopping thread, which aborts the
   * whole process.
   */
  async close(): Promise<void> {
    if (this.exitError) return;
    const exited = new Promise<void>((resolve) => this.onExit(() => resolve()));
    const message: ToThread = { kind: "close" };
    this.worker.ref();
    this.worker.postMessage(message);
    await exited;
  }

  /** Settles the batch a message answers. */
  private answer(message: ThreadMessage): void {
    if (message.kind !== "result" && message.kind !== "failed") return;
    const batch = this.inFlight.get(message.id);
    if (!batch) return;
    this.inFlight.delete(message.id);
    if (this.inFlight.size === 0) this.worker.unref();
    if (message.kind === "result") batch.resolve({ outputs: message.outputs, rejected: message.rejected });
    else batch.reject(new Error(message.message));
  }

  /** Tells the listeners first (so the pool forgets the thread before anyone retries on it), then fails what was in flight. */
  private exited(code: number): void {
    this.exitError = new Error(`${this.label}: session thread ${this.threadId} exited (code ${code})`, { cause: this.uncaught });
    for (const listener of this.exitListeners.splice(0)) listener(this.exitError);
    for (const batch of this.inFlight.values()) batch.reject(this.exitError);
    this.inFlight.clear();
  }
}
