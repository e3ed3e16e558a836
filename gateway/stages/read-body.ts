/** Reads a request body into memory, refusing more than the limit with 413. */
import { ServingError } from "../../runtime/contract";
import type { Exchange, Stage } from "../exchange";

const tooLarge = (limit: number) => new ServingError("PAYLOAD_TOO_LARGE", `the request body is larger than ${limit} bytes`);

function read(exchange: Exchange, limit: number): Promise<void> {
  const req = exchange.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Drain the rest, so the connection can still carry the 413.
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      exchange.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      resolve();
    });
    req.on("error", reject);
  });
}

/** Reads the whole body, at most `limit` bytes, whether the client declared its length or streams it. */
export function readBody(limit: number): Stage {
  return {
    run(exchange) {
      const req = exchange.req;
      const declared = Number(req.headers["content-length"] ?? 0);
      if (declared > limit) throw tooLarge(limit);
      if (req.method === "GET" || req.method === "HEAD" || (declared === 0 && !req.headers["transfer-encoding"])) return;
      return read(exchange, limit);
    },
  };
}
