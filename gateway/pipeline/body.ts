/** Reads a request body into memory, refusing more than the limit with 413. */
import type { IncomingMessage } from "node:http";
import { ServingError } from "../../runtime/errors";

const EMPTY = Buffer.alloc(0);

/** The whole body, at most `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.reject(new ServingError("PAYLOAD_TOO_LARGE", `the request body is larger than ${limit} bytes`));
  if (req.method === "GET" || req.method === "HEAD" || (declared === 0 && !req.headers["transfer-encoding"])) return Promise.resolve(EMPTY);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new ServingError("PAYLOAD_TOO_LARGE", `the request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
