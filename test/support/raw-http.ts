/**
 * A raw-socket HTTP/1.1 client for adversarial tests: it writes exactly the
 * bytes a test gives it (malformed framing, pipelined requests, headers sent
 * a byte at a time) and parses the responses that come back, so a test sees
 * what the server answered, not what a well-behaved client library would
 * have sent or accepted.
 */
import { connect, type Socket } from "node:net";

/** One parsed response. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/** One connection to 127.0.0.1. */
export class RawConnection {
  /** Resolves once the server (or the test) closed the connection. */
  readonly closed: Promise<void>;
  private buffer = Buffer.alloc(0);
  private ended = false;
  private readonly parsed: RawResponse[] = [];
  private waiting?: () => void;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.parse();
      this.waiting?.();
    });
    // A reset is a close like any other here: the test asserts on what was answered before it.
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.parse();
        this.waiting?.();
        resolve();
      }),
    );
  }

  /** Connects to `port` on 127.0.0.1. */
  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** Writes `data` as it is. */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** The next response, or undefined when the connection closes before a whole one arrived. */
  async response(): Promise<RawResponse | undefined> {
    while (this.parsed.length === 0 && !this.ended) await new Promise<void>((resolve) => (this.waiting = resolve));
    return this.parsed.shift();
  }

  /** Closes the connection from this side (a client that gives up). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Moves every complete response from the buffer to `parsed`. */
  private parse(): void {
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [statusLine, ...lines] = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      const rest = this.buffer.subarray(end + 4);
      const body = this.body(headers, rest);
      if (!body) return;
      this.parsed.push({ status: Number(statusLine.split(" ")[1]), headers, body: body.text });
      this.buffer = rest.subarray(body.used);
    }
  }

  /** The body at the start of `rest` framed by `headers`, or undefined while it is incomplete. */
  private body(headers: Record<string, string>, rest: Buffer): { text: string; used: number } | undefined {
    if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      return rest.length < length ? undefined : { text: rest.subarray(0, length).toString("utf8"), used: length };
    }
    if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      const chunks: Buffer[] = [];
      let at = 0;
      for (;;) {
        const lineEnd = rest.indexOf("\r\n", at);
        if (lineEnd < 0) return undefined;
        const size = parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16);
        if (size === 0) {
          const trailerEnd = rest.indexOf("\r\n\r\n", lineEnd);
          return trailerEnd < 0 ? undefined : { text: Buffer.concat(chunks).toString("utf8"), used: trailerEnd + 4 };
        }
        if (rest.length < lineEnd + 2 + size + 2) return undefined;
        chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
    }
    // Neither length nor chunks: the body runs to the close.
    return this.ended ? { text: rest.toString("utf8"), used: rest.length } : undefined;
  }
}

/** Sends `raw` on a new connection and collects up to `count` responses (fewer if the server closes first). */
export async function rawExchange(port: number, raw: string | Buffer, count = 1): Promise<{ responses: RawResponse[]; closed: boolean }> {
  const connection = await RawConnection.open(port);
  connection.write(raw);
  const responses: RawResponse[] = [];
  while (responses.length < count) {
    const response = await connection.response();
    if (!response) break;
    responses.push(response);
  }
  const closed = connection.isClosed;
  connection.destroy();
  return { responses, closed };
}
