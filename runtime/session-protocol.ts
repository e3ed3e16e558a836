/**
 * What the event loop and a session thread say to each other (see
 * session-thread.ts and session-worker.ts): batches and results as named
 * float32 tensors whose buffers are transferred, never copied.
 */
import type { InferenceSession } from "onnxruntime-node";

/** Named float32 tensors: flat data and dimensions. */
export type Tensors = Record<string, { data: Float32Array; dims: readonly number[] }>;

/** What a thread is started with (its `workerData`): the artifact is copied to it once. */
export interface SessionThreadData {
  artifact: Uint8Array;
  options: InferenceSession.SessionOptions;
}

/** A batch to run. */
export interface RunMessage {
  kind: "run";
  id: number;
  inputs: Tensors;
}

/** What a thread is sent: a batch, or the request to release its session and end once the batches before it are done. */
export type ToThread = RunMessage | { kind: "close" };

/** What a thread says. */
export type ThreadMessage =
  | { kind: "ready" }
  | { kind: "load-failed"; message: string }
  | { kind: "result"; id: number; outputs: Tensors }
  | { kind: "failed"; id: number; message: string };

/** The buffers of `tensors`, each once: what a message transfers instead of copying. */
export function buffersOf(tensors: Tensors): ArrayBuffer[] {
  return [...new Set(Object.values(tensors).map((tensor) => tensor.data.buffer as ArrayBuffer))];
}
