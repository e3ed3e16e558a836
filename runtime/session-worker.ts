/**
 * Inside a session thread (see session-thread.ts). The thread starts before
 * it is needed, with onnxruntime loaded; its first message opens the session
 * from an artifact, and it says "ready" (or why it could not, and ends). Then
 * it runs each batch it is sent, one after another: reads the rows that came
 * as JSON request bodies into their rows (a row that is not valid JSON or not
 * the declared inputs is refused, alone), runs the session, and answers with
 * the outputs, their buffers transferred back. A batch the session refuses is
 * answered with the error; the thread keeps serving. On "close" it releases
 * the session after the batches before it, and ends.
 *
 * The thread runs at a lower CPU priority than the event loop's (and so do
 * onnxruntime's intra-op threads, which it starts and which inherit it): a
 * saturated model then takes only the CPU nothing else asks for, and health
 * checks, cache hits and other routes are answered first.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { ServingError } from "./contract";
import {
  buffersOf,
  type JsonRows,
  type RejectedRow,
  SESSION_THREAD_NICE,
  type RunMessage,
  type SessionThreadData,
  type Tensors,
  type ThreadMessage,
  type ToThread,
} from "./session-protocol";
import { sampleFromBody, sampleSize } from "./signature";

const port = parentPort!;
const say = (message: ThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const messageOf = (error: unknown) => String((error as Error)?.message ?? error);
/**
 * Lowers this thread's priority, before its session starts onnxruntime's
 * threads. Linux keeps a nice value per thread, and `setpriority` given a
 * thread's id changes that thread's alone; elsewhere there is no per-thread
 * id to give, and the thread keeps the process's priority.
 */
function yieldToEventLoop(): void {
  if (process.platform !== "linux") return;
  try {
    setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), SESSION_THREAD_NICE);
  } catch {
    // A sandbox that forbids it (seccomp): the thread serves at the process's priority, as before.
  }
}

/** The model's declared inputs, once its session is open. */
let declared: SessionThreadData["inputs"] = {};

/** Reads each JSON row into its row of `inputs`; returns the rows it refused. */
function readRows(inputs: Tensors, json: JsonRows): RejectedRow[] {
  const rejected: RejectedRow[] = [];
  for (const { row, start, end } of json.rows) {
    try {
      const sample = sampleFromBody(json.bytes.subarray(start, end), declared);
      for (const [name, tensor] of Object.entries(declared)) inputs[name].data.set(sample[name], row * sampleSize(tensor));
    } catch (error) {
      rejected.push({ row, code: error instanceof ServingError ? error.code : "INVALID_INPUT", message: messageOf(error) });
    }
  }
  return rejected;
}

async function run(session: ort.InferenceSession, { id, inputs, json }: RunMessage): Promise<void> {
  try {
    const rejected = json ? readRows(inputs, json) : [];
    const rows = Object.values(inputs)[0]?.dims[0] ?? 0;
    if (rejected.length === rows) return say({ kind: "result", id, outputs: {}, rejected });
    const feeds = Object.fromEntries(
      Object.entries(inputs).map(([name, tensor]) => [name, new ort.Tensor("float32", tensor.data, tensor.dims)]),
    );
    const results = await session.run(feeds);
    // Numeric outputs only (a string tensor has no buffer to move); the host checks each declared output's type.
    const outputs: Tensors = Object.fromEntries(
      Object.entries(results)
        .filter(([, tensor]) => ArrayBuffer.isView(tensor.data))
        .map(([name, tensor]) => [name, { data: tensor.data as Float32Array, dims: tensor.dims }]),
    );
    say({ kind: "result", id, outputs, rejected }, buffersOf(outputs));
  } catch (error) {
    say({ kind: "failed", id, message: messageOf(error) });
  }
}

async function end(session: ort.InferenceSession): Promise<void> {
  await session.release();
  process.exit(0);
}

/** Opens the session, then serves batches: one message at a time, so "close" waits for the batches before it. */
function open({ artifact, options, inputs }: SessionThreadData): void {
  declared = inputs;
  yieldToEventLoop();
  ort.InferenceSession.create(artifact, options).then(
    (session) => {
      let done = Promise.resolve();
      port.on("message", (message: ToThread) => {
        done = done.then(() => (message.kind === "run" ? run(session, message) : end(session)));
      });
      say({ kind: "ready" });
    },
    (error) => {
      say({ kind: "load-failed", message: messageOf(error) });
      port.close();
    },
  );
}

port.once("message", (message: ToThread) => {
  if (message.kind === "open") open(message.data);
  else port.close();
});
