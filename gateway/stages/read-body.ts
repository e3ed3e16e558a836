/**
 * Reads a request body into memory, refusing more than the limit with 413.
 * Every method's body is read, a GET's too: a backend then gets it framed by
 * its exact length, and no byte of the client's stream is ever left over for
 * a proxy to pass on unframed (where it would be parsed as another request).
 */
import type { IncomingMessage } from "node:http";
import { ServingError } from "../../runtime/contract";
import type { Exchange, Stage } from "../exchange";

const tooLarge = (limit: number) => new ServingError("PAYLOAD_TOO_LARGE", `the request body is larger than ${limit} bytes`);
const clientClosed = () => new ServingError("CLIENT_CLOSED", "the client closed the connection before its body was read");

/** A body being read: its chunks so far, and the promise it settles. Listeners find it on the request. */
interface BodyRead {
  readonly exchange: Exchange;
  readonly limit: number;
  readonly chunks: Buffer[];
  size: number;
  settled: boolean;
  resolve(): void;
  reject(error: ServingError): void;
}

const READ = Symbol("cloudloom.body");
type ReadRequest = IncomingMessage & { [READ]?: BodyRead };

// The listeners are shared by every request (each finds its read through the request), so reading a body makes no closures.
function onData(this: ReadRequest, chunk: Buffer): void {
  const read = this[READ]!;
  read.size += chunk.length;
  if (read.size > read.limit) {
    // Drain the rest, so the connection can still carry the 413.
    this.removeListener("data", onData);
    this.resume();
    read.settled = true;
    read.reject(tooLarge(read.limit));
    return;
  }
  read.chunks.push(chunk);
}

function onEnd(this: ReadRequest): void {
  const read = this[READ]!;
  if (read.settled) return;
  read.settled = true;
  read.exchange.body = read.chunks.length === 1 ? read.chunks[0] : Buffer.concat(read.chunks);
  read.resolve();
}

/**
 * An aborted or timed-out request errors or closes before its end. Every request closes once it is
 * over, so the error is made only when it is one: an Error's stack costs more than reading the body.
 */
function onClosed(this: ReadRequest): void {
  const read = this[READ]!;
  if (read.settled) return;
  read.settled = true;
  read.reject(clientClosed());
}

function read(exchange: Exchange, limit: number): Promise<void> {
  const req: ReadRequest = exchange.req;
  return new Promise((resolve, reject) => {
    req[READ] = { exchange, limit, chunks: [], size: 0, settled: false, resolve, reject };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onClosed);
    req.on("close", onClosed);
  });
}

/**
 * The body when Node's parser already holds all of it (a small body comes in
 * the packets of its head, and the stages before this one gave the parser its
 * turn): taken from the stream's buffer at once, with no listener or promise.
 * Undefined when some of it is still to come. Node reads what is left of a
 * request (here, its end) once the response is sent.
 */
function alreadyRead(exchange: Exchange, limit: number): Buffer | undefined {
  const req = exchange.req;
  if (!req.complete || req.readableFlowing || req.readableEnded) return undefined;
  const body = (req.read() as Buffer | null) ?? Buffer.alloc(0);
  if (body.length > limit) throw tooLarge(limit);
  return body;
}

/** Reads the whole body, at most `limit` bytes, whether the client declared its length or streams it. */
export function readBody(limit: number): Stage {
  return {
    run(exchange) {
      const req = exchange.req;
      const declared = Number(req.headers["content-length"] ?? 0);
      if (declared > limit) throw tooLarge(limit);
      if (declared === 0 && !req.headers["transfer-encoding"]) return;
      const body = alreadyRead(exchange, limit);
      if (body === undefined) return read(exchange, limit);
      exchange.body = body;
    },
  };
}
