/**
 * Responses streamed from a remote backend (undici, one pool per backend):
 * relayed as they arrive, held back while the client does not read, final
 * answers after 1xx ones, and a malformed response head answered 502. Real
 * sockets; the upstreams are plain node:http or raw TCP, so a test decides
 * every byte they send.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { App } from "../../sdk";
import { until } from "../support/until";

/** A gateway with one public route, POST /stream, to the function at `upstream`. */
async function gatewayTo(upstream: string): Promise<{ composed: ComposedGateway; port: number }> {
  const app = new App("streaming");
  const central = app.region("central", { kind: "central", placement: {} });
  app.route("POST /stream", { target: app.function("stream", { handler: "stream.ts", regions: [central] }), auth: "none" });
  const composed = composeGateway({
    spec: app.toSpec({ root: undefined }),
    settings: parseSettings({ health: { probeIntervalMs: 60_000 }, limits: { upstreamTimeoutMs: 10_000 } }),
    source: { kind: "remote", endpoints: { functions: { stream: { central: upstream } }, models: {} } },
    logger: pino({ level: "silent" }),
  });
  return { composed, port: (await composed.gateway.listen(0)).port };
}

/** POSTs to the gateway and resolves with the response as it starts, its body left unread. */
function open(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/stream", method: "POST", headers: { "content-length": "2" } }, resolve);
    req.on("error", reject);
    req.end("{}");
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const listening = async <T extends Server | TcpServer>(server: T): Promise<T> => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
};
const urlOf = (server: Server | TcpServer) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe("responses streamed from a remote backend (real sockets)", function () {
  this.timeout(60_000);
  let upstream: Server | TcpServer | undefined;
  let gateway: ComposedGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    if (upstream && "closeAllConnections" in upstream) upstream.closeAllConnections();
    upstream?.close();
    gateway = undefined;
    upstream = undefined;
  });

  it("relays each chunk as it comes: the client reads the first before the upstream sends the last", async () => {
    let firstRead = false;
    upstream = await listening(
      createServer((req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": "text/plain", "x-upstream": "yes" });
        res.write("first;");
        void until(() => firstRead).then(() => res.end("last"));
      }),
    );
    let port: number;
    ({ composed: gateway, port } = await gatewayTo(urlOf(upstream)));
    const res = await open(port);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["x-upstream"], "yes");
    assert.equal(res.headers["x-cloudloom-region"], "central");
    const [first] = (await once(res, "data")) as [Buffer];
    assert.equal(first.toString(), "first;", "the first chunk arrived while the upstream still held the last");
    firstRead = true;
    assert.equal((await readAll(res)).toString(), "last");
  });

  it("holds the upstream back while the client does not read, and then delivers a large body whole", async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    // More than the loopback sockets' buffers hold between the upstream and the client, so only back-pressure stops it.
    const total = 96 * 1024 * 1024;
    let held = false;
    let finished = false;
    upstream = await listening(
      createServer((req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(total) });
        let sent = 0;
        const pump = () => {
          held = false;
          while (sent < total) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              held = true;
              res.once("drain", pump);
              return;
            }
          }
          res.end(() => (finished = true));
        };
        pump();
      }),
    );
    let port: number;
    ({ composed: gateway, port } = await gatewayTo(urlOf(upstream)));
    const res = await open(port);
    res.pause();
    // Nothing is read: the gateway passes the client's back-pressure on to the upstream instead of buffering the body.
    await until(() => held, 20);
    for (let turn = 0; turn < 200; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(held && !finished, "the upstream stays held while the client reads nothing");
    const body = await readAll(res);
    assert.equal(body.length, total);
    assert.ok(body.every((byte) => byte === 7));
    await until(() => finished);
  });

  it("ends the upstream's response when the client leaves in the middle of it", async () => {
    let upstreamClosed = false;
    upstream = await listening(
      createServer((req, res) => {
        req.resume();
        res.on("close", () => (upstreamClosed = true));
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("part of it;");
        // The rest never comes: only the client's departure can end this response.
      }),
    );
    let port: number;
    ({ composed: gateway, port } = await gatewayTo(urlOf(upstream)));
    const res = await open(port);
    await once(res, "data");
    res.destroy();
    await until(() => upstreamClosed, 20);
  });

  it("answers with the final response after an informational one (103 Early Hints)", async () => {
    upstream = await listening(
      createServer((req, res) => {
        req.resume();
        res.writeEarlyHints({ link: "</style.css>; rel=preload; as=style" });
        res.writeHead(201, { "content-type": "application/json" }).end('{"created":true}');
      }),
    );
    let port: number;
    ({ composed: gateway, port } = await gatewayTo(urlOf(upstream)));
    const res = await open(port);
    assert.equal(res.statusCode, 201);
    assert.deepEqual(JSON.parse((await readAll(res)).toString()), { created: true });
  });

  it("answers 502 BAD_GATEWAY when the upstream's response head is not HTTP, and keeps serving", async () => {
    let malformed = true;
    upstream = await listening(
      createTcpServer((socket) => {
        socket.once("data", () => {
          const head = malformed ? "HTTP/1.1 200 OK\r\nx-bad\u0001name: y\r\n" : "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n";
          socket.end(`${head}content-length: 2\r\nconnection: close\r\n\r\nok`);
        });
      }),
    );
    let port: number;
    ({ composed: gateway, port } = await gatewayTo(urlOf(upstream)));
    const refused = await open(port);
    assert.equal(refused.statusCode, 502);
    assert.deepEqual(JSON.parse((await readAll(refused)).toString()), {
      error: { code: "BAD_GATEWAY", message: "the upstream's response was malformed" },
    });
    malformed = false;
    const served = await open(port);
    assert.equal(served.statusCode, 200);
    assert.equal((await readAll(served)).toString(), "ok");
  });
});
