/**
 * Inside a session thread (see session-thread.ts): creates the onnxruntime
 * session from the artifact it was started with, says "ready" (or why it
 * could not, and ends), then runs each batch it is sent, one after another,
 * and answers with the outputs, their buffers transferred back. A batch the
 * session refuses is answered with the error; the thread keeps serving. On
 * "close" it releases the session after the batches before it, and ends.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { buffersOf, type RunMessage, type SessionThreadData, type Tensors, type ThreadMessage, type ToThread } from "./session-protocol";

const port = parentPort!;
const say = (message: ThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const messageOf = (error: unknown) => String((error as Error)?.message ?? error);

async function run(session: ort.InferenceSession, { id, inputs }: RunMessage): Promise<void> {
  try {
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
    say({ kind: "result", id, outputs }, buffersOf(outputs));
  } catch (error) {
    say({ kind: "failed", id, message: messageOf(error) });
  }
}

const { artifact, options } = workerData as SessionThreadData;
ort.InferenceSession.create(artifact, options).then(
  (session) => {
    // One message at a time: a batch never overlaps another, and "close" waits for those before it.
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

async function end(session: ort.InferenceSession): Promise<void> {
  await session.release();
  process.exit(0);
}
