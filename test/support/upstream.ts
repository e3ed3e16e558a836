/**
 * Stub upstreams that answer like cloudloom function and model pods, on
 * real sockets, with behaviour a test can change while they run.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the stub answers. */
export interface StubBehaviour {
  status: number;
  headers: Record<string, string>;
  delayMs: number;
  /** When set, the stub answers only once this settles (then after `delayMs`): a test decides when a slow upstream answers. */
  hold?: Promise<void>;
  body?: (req: IncomingMessage, requestBody: string) => unknown;
  /** When set, the status of each request (else `status`). */
  statusOf?: (req: IncomingMessage) => number;
}

/** A stub upstream that counts what it receives. */
export class StubUpstream {
  readonly received: Array<{ path: string; headers: IncomingMessage["headers"]; body: string }> = [];
  /** Paths of requests whose connection closed before the stub answered them (the caller gave up). */
  readonly abandoned: string[] = [];
  behaviour: StubBehaviour = { status: 200, headers: {}, delayMs: 0 };
  private server?: Server;
  url = "";

  constructor(readonly name: string) {}

  /** Starts listening on a free port (or `port`, to come back on the same one). */
  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.answer(req, res));
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Closes it and every open connection, as a crash would. */
  async kill(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    res.once("close", () => {
      if (!res.writableFinished) this.abandoned.push(req.url ?? "");
    });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      this.received.push({ path: req.url ?? "", headers: req.headers, body });
      const { headers, delayMs, hold } = this.behaviour;
      const status = this.behaviour.statusOf?.(req) ?? this.behaviour.status;
      const payload = JSON.stringify(this.behaviour.body?.(req, body) ?? { upstream: this.name, path: req.url, echo: body });
      const send = () =>
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(payload);
        }, delayMs);
      if (hold) void hold.then(send);
      else send();
    });
  }
}
