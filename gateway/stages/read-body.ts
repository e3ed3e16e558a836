/**
 * Reads a request body into memory, refusing more than the limit with 413.
 * Every method's body is read, a GET's too: a backend then gets it framed by
 * its exact length, and no byte of the client's stream is ever left over for
 * a proxy to pass on unframed (where it would be parsed as another request).
 */
import { ServingError } from "../../runtime/contract";
import type { Exchange, Stage } from "../exchange";

const tooLarge = (limit: number) => new ServingError("PAYLOAD_TOO_LARGE", `the request body is larger than ${limit} bytes`);
const clientClosed = () => new ServingError("CLIENT_CLOSED", "the client closed the connection before its body was read");

function read(exchange: Exchange, limit: number): Promise<void> {
  const req = exchange.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Drain the rest, so the connection can still carry the 413.
        req.removeAllListeners("data");
        req.resume();
        settled = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (settled) return;
      settled = true;
      exchange.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      resolve();
    });
    // An aborted or timed-out request errors or closes before its end. Every request closes once it
    // is over, so the error is made only when it is one: an Error's stack costs more than reading the body.
    const closed = () => {
      if (settled) return;
      settled = true;
      reject(clientClosed());
    };
    req.on("error", closed);
    req.on("close", closed);
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
