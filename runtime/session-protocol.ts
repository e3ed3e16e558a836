/**
 * What the event loop and a session thread say to each other (see
 * session-thread.ts and session-worker.ts): batches and results as named
 * float32 tensors whose buffers are transferred, never copied. A batch's
 * rows that arrived as JSON request bodies travel as bytes and are read into
 * their rows in the thread.
 */
import type { InferenceSession } from "onnxruntime-node";
import type { TensorSpec } from "../sdk/spec";
import type { ErrorCode } from "./contract";

/** Named float32 tensors: flat data and dimensions. */
export type Tensors = Record<string, { data: Float32Array; dims: readonly number[] }>;

/** What a thread opens its session with (its first message): the artifact is copied to it once. */
export interface SessionThreadData {
  artifact: Uint8Array;
  options: InferenceSession.SessionOptions;
  /** The model's declared inputs, which JSON rows are read against. */
  inputs: Record<string, TensorSpec>;
}

/** Rows of a batch given as JSON request bodies: `bytes[start, end)` is row `row`'s body. */
export interface JsonRows {
  bytes: Uint8Array;
  rows: Array<{ row: number; start: number; end: number }>;
}

/** A row the thread could not read, and why (the client's error). */
export interface RejectedRow {
  row: number;
  code: ErrorCode;
  message: string;
}

/** A batch to run: `inputs` holds every row, the JSON rows' still zero until the thread reads them. */
export interface RunMessage {
  kind: "run";
  id: number;
  inputs: Tensors;
  json?: JsonRows;
}

/** A batch's answer: the outputs of every row, and the rows that were refused (their outputs are meaningless). */
export interface RunResult {
  outputs: Tensors;
  rejected: RejectedRow[];
}

/**
 * What a thread is sent: its session to open (first), batches, and the
 * request to release its session and end once the batches before it are done.
 */
export type ToThread = { kind: "open"; data: SessionThreadData } | RunMessage | { kind: "close" };

/** What a thread says. */
export type ThreadMessage =
  | { kind: "ready" }
  | { kind: "load-failed"; message: string }
  | ({ kind: "result"; id: number } & RunResult)
  | { kind: "failed"; id: number; message: string };

/** The buffers of `tensors`, each once: what a message transfers instead of copying. */
export function buffersOf(tensors: Tensors): ArrayBuffer[] {
  return [...new Set(Object.values(tensors).map((tensor) => tensor.data.buffer as ArrayBuffer))];
}

/** The nice value of a session thread: on Linux's scheduler, about a tenth of the event loop's share when both want the CPU. */
export const SESSION_THREAD_NICE = 10;
