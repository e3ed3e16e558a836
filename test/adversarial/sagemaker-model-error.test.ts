/**
 * A reviewer's attacks on the unwrapping of SageMaker's 424 ModelError (real
 * sockets on 127.0.0.1): envelopes that claim a status SageMaker never wraps
 * (a 2xx the cache would keep, a 204 or 304 that cannot carry the body), a
 * 424 whose body never ends, and one shorter than its Content-Length, on the
 * streamed and on the cached route. The fake endpoint writes raw bytes and
 * does not check signatures (the gateway signs each call all the same).
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { App, type SpecV1 } from "../../sdk";
import { KEY_A, post } from "../support/gateway-app";
import { modelErrorEnvelope } from "../support/sagemaker";
import { useTestCredentials } from "../support/sigv4";

/** A SageMaker endpoint that answers each call with the raw bytes `answer` gives, once the request's head arrived. */
class RawEndpoint {
  answer: (socket: Socket) => void = () => undefined;
  calls = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  url = "";

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined);
      let seen = "";
      socket.on("data", (data: Buffer) => {
        seen += data.toString("latin1");
        const end = seen.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(seen.slice(0, end))?.[1] ?? 0);
        if (seen.length < end + 4 + length) return;
        seen = seen.slice(end + 4 + length);
        this.calls++;
        this.answer(socket);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/endpoints/sm-intent-v1-central/invocations`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** A 424 whose JSON body is `envelope`. */
const modelError = (envelope: unknown) => (socket: Socket) => {
  const body = Buffer.from(JSON.stringify(envelope));
  socket.write(`HTTP/1.1 424 Failed Dependency\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
  socket.write(body);
};

const OUTPUTS = '{"model":"intent","version":"1","outputs":{"y":[0.5]}}';
const outputs = (socket: Socket) =>
  socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${OUTPUTS.length}\r\n\r\n${OUTPUTS}`);

function spec(): SpecV1 {
  const app = new App("sm-attack");
  const central = app.region("central", { kind: "central", placement: {} });
  const signature = {
    inputs: { x: { type: "float32" as const, shape: [-1, 1] } },
    outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
  };
  const intent = app.model("intent", { version: "1", artifact: { path: "m.onnx", sha256: "a".repeat(64) }, signature, regions: [central] });
  app.route("POST /intent", { target: intent });
  app.route("POST /intent-cached", { target: intent, cache: { ttl: "30 seconds" } });
  return app.toSpec({ root: undefined });
}

describe("gateway: hostile SageMaker 424 answers (raw fake InvokeEndpoint, real sockets)", function () {
  this.timeout(60_000);
  let endpoint: RawEndpoint;
  let composed: ComposedGateway;
  let base: string;
  let restore: () => void;

  before(() => {
    restore = useTestCredentials();
  });
  after(() => restore());
  beforeEach(async () => {
    endpoint = new RawEndpoint();
    await endpoint.start();
    composed = composeGateway({
      spec: spec(),
      settings: parseSettings({
        apiKeys: [KEY_A],
        health: { probeIntervalMs: 60_000 },
        logSampleRate: 0,
        // Short, so a 424 that never ends is given up soon; no breaker opens on these few calls.
        limits: { upstreamTimeoutMs: 1_500 },
        breaker: { consecutiveFailures: 1_000, halfOpenAfterMs: 1_000 },
      }),
      source: {
        kind: "remote",
        endpoints: {
          functions: {},
          models: { "intent@1": { central: { url: endpoint.url, exact: true, sigv4: { service: "sagemaker", region: "eu-west-1" } } } },
        },
      },
      logger: pino({ level: "silent" }),
    });
    base = `http://127.0.0.1:${(await composed.gateway.listen(0)).port}`;
  });
  afterEach(async () => {
    await composed.close();
    await endpoint.stop();
  });

  let sent = 0;
  const input = () => ({ inputs: { x: [[sent++]] } });

  for (const path of ["/intent", "/intent-cached"]) {
    it(`never turns a 424 into a success or a bodiless status: an envelope claiming 200, 204 or 304 goes as the 424 it is (${path})`, async () => {
      for (const claimed of [200, 204, 304]) {
        const envelope = modelErrorEnvelope(claimed, '{"outputs":{"y":[1]}}');
        endpoint.answer = modelError(envelope);
        const body = input();
        const response = await post(base, path, body, KEY_A);
        assert.equal(response.status, 424, `claimed ${claimed}`);
        assert.deepEqual(await response.json(), envelope, `claimed ${claimed}`);
        // Asked again, the cached route calls the endpoint again: no error was kept as an answer.
        const before = endpoint.calls;
        endpoint.answer = outputs;
        const again = await post(base, path, body, KEY_A);
        assert.deepEqual([again.status, await again.text()], [200, OUTPUTS], `claimed ${claimed}, asked again`);
        assert.equal(endpoint.calls, before + 1, `claimed ${claimed}: the endpoint is called again`);
      }
    });

    it(`answers a 424 whose body never ends with a typed 504 within the upstream timeout, and keeps serving (${path})`, async () => {
      endpoint.answer = (socket) =>
        socket.write(
          `HTTP/1.1 424 Failed Dependency\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"Ori\r\n`,
        );
      const response = await post(base, path, input(), KEY_A);
      assert.equal(response.status, 504);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, "GATEWAY_TIMEOUT");
      endpoint.answer = outputs;
      const ok = await post(base, path, input(), KEY_A);
      assert.deepEqual([ok.status, await ok.text()], [200, OUTPUTS]);
    });

    it(`answers a 424 cut short of its Content-Length with a typed 502, nothing of it sent (${path})`, async () => {
      endpoint.answer = (socket) => {
        socket.write(
          `HTTP/1.1 424 Failed Dependency\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"OriginalStatusCode":400,`,
        );
        setTimeout(() => socket.destroy(), 50);
      };
      const response = await post(base, path, input(), KEY_A);
      const body = await response.text();
      assert.equal(response.status, 502, body);
      assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, "BAD_GATEWAY");
      assert.doesNotMatch(body, /OriginalStatusCode/);
      endpoint.answer = outputs;
      const ok = await post(base, path, input(), KEY_A);
      assert.deepEqual([ok.status, await ok.text()], [200, OUTPUTS]);
    });
  }
});
