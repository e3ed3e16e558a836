import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import aws4 from "aws4";
import pino from "pino";
import { composeGateway } from "../../../cli/compose-gateway";
import { parseSettings } from "../../../gateway/config";
import type { Gateway } from "../../../gateway/gateway";
import { authFor } from "../../../runtime/auth/backend-auth";
import { containerEndpointFromEnv, ContainerCredentials } from "../../../runtime/auth/credentials";
import { sigv4Headers, type AwsCredentials } from "../../../runtime/auth/sigv4";
import { ServingError } from "../../../runtime/contract";
import { gatewaySpec, KEY_A, post } from "../../support/gateway-app";
import { TEST_CREDENTIALS, sigv4CheckingBehaviour, verifySigv4 } from "../../support/sigv4";
import { StubUpstream } from "../../support/upstream";

const TOKEN = "container-token-0123456789-secret";
const SIGNING = { service: "lambda", region: "eu-west-1" };
const T0 = Date.parse("2030-01-01T00:00:00Z");
const MINUTE = 60_000;

/** What the stub credentials endpoint answers next. */
interface Answer {
  status: number;
  body: unknown;
  /** When set, the answer waits for it. */
  hold?: Promise<void>;
}

/** A stub of the ECS/EKS container credentials endpoint on 127.0.0.1. */
class CredentialsEndpoint {
  readonly requests: Array<{ path: string; authorization?: string }> = [];
  answer: Answer = { status: 200, body: {} };
  private server?: Server;
  origin = "";

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      this.requests.push({ path: req.url ?? "", authorization: req.headers.authorization });
      const { status, body, hold } = this.answer;
      const send = () => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(typeof body === "string" ? body : JSON.stringify(body));
      };
      if (hold) void hold.then(send);
      else send();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const answerWith = (credentials: AwsCredentials, expiration: number): Answer => ({
  status: 200,
  body: {
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: new Date(expiration).toISOString(),
  },
});

const ROTATED: AwsCredentials = {
  accessKeyId: "AKIDROTATED",
  secretAccessKey: "rotatedSecretKey/0123456789abcdefghijklmnop",
  sessionToken: "rotated-session-token",
};

/** A request as a backend receives it, signed with `headers`. */
function received(headers: Record<string, string>): IncomingMessage {
  return {
    method: "POST",
    url: "/invoke",
    headers: { host: "backend.example", "content-type": "application/json", ...lower(headers) },
  } as unknown as IncomingMessage;
}
const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
const REQUEST = (body: string) => ({
  host: "backend.example",
  path: "/invoke",
  method: "POST",
  contentType: "application/json",
  body: Buffer.from(body),
});

/** True when `headers` sign REQUEST(body) with `credentials` (the check of test/support/sigv4.ts, for other keys). */
function signedBy(headers: Record<string, string>, body: string, credentials: AwsCredentials): boolean {
  const check = {
    host: "backend.example",
    path: "/invoke",
    method: "POST",
    ...SIGNING,
    body,
    headers: { "content-type": "application/json", "X-Amz-Date": headers["x-amz-date"] },
  };
  aws4.sign(check, credentials);
  return (
    (check.headers as Record<string, string>).Authorization === headers.authorization &&
    headers["x-amz-security-token"] === credentials.sessionToken
  );
}

describe("SigV4 credentials from the container credentials endpoint", () => {
  let endpoint: CredentialsEndpoint;
  let dir: string;
  let tokenFile: string;

  before(async () => {
    endpoint = await new CredentialsEndpoint().start();
    dir = mkdtempSync(join(tmpdir(), "cloudloom-creds-"));
    tokenFile = join(dir, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
  });
  after(async () => {
    await endpoint.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    endpoint.requests.length = 0;
    endpoint.answer = answerWith(TEST_CREDENTIALS, Date.now() + 60 * MINUTE);
  });

  /** A container-credentials-only environment, on its own path so that each test gets its own shared source. */
  const containerEnv = (path: string): NodeJS.ProcessEnv => ({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${endpoint.origin}${path}`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
  });

  it("signs with the fetched keys and session token, sending the token file's token to the endpoint", async () => {
    const auth = authFor({ url: "https://backend.example", sigv4: SIGNING }, containerEnv("/creds-sign"))!;
    const headers = await auth(REQUEST('{"q":1}'));
    assert.ok(verifySigv4(received(headers), '{"q":1}', SIGNING.service, SIGNING.region));
    assert.match(headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//);
    // Fetched once (at startup, shared with the call), with the token (trimmed) as the Authorization header.
    await auth(REQUEST("{}"));
    assert.deepEqual(endpoint.requests, [{ path: "/creds-sign", authorization: TOKEN }]);
  });

  it("lets static environment keys take precedence, without calling the endpoint", async () => {
    const env = {
      ...containerEnv("/creds-precedence"),
      AWS_ACCESS_KEY_ID: ROTATED.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ROTATED.secretAccessKey,
      AWS_SESSION_TOKEN: ROTATED.sessionToken,
    };
    const headers = await authFor({ url: "https://backend.example", sigv4: SIGNING }, env)!(REQUEST("{}"));
    assert.ok(signedBy(headers, "{}", ROTATED));
    assert.deepEqual(endpoint.requests, []);
  });

  it("refreshes ahead of Expiration in the background, signing with the still-valid keys meanwhile", async () => {
    let now = T0;
    endpoint.answer = answerWith(TEST_CREDENTIALS, T0 + 60 * MINUTE);
    const source = new ContainerCredentials(containerEndpointFromEnv(containerEnv("/creds-refresh"))!, { now: () => now });
    assert.equal((await source.get()).accessKeyId, TEST_CREDENTIALS.accessKeyId);

    // Ten minutes before expiry: cached, no fetch.
    now = T0 + 50 * MINUTE;
    assert.equal((await source.get()).accessKeyId, TEST_CREDENTIALS.accessKeyId);
    assert.equal(endpoint.requests.length, 1);

    // Four minutes before: the refresh starts, but the call signs at once with the current keys.
    let release!: () => void;
    endpoint.answer = { ...answerWith(ROTATED, T0 + 120 * MINUTE), hold: new Promise<void>((resolve) => (release = resolve)) };
    now = T0 + 56 * MINUTE;
    const during = await Promise.all([source.get(), source.get()]);
    assert.deepEqual(
      during.map((c) => c.accessKeyId),
      [TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.accessKeyId],
    );
    const body = '{"during":true}';
    assert.ok(verifySigv4(received(sigv4Headers(SIGNING, REQUEST(body), during[0])), body, SIGNING.service, SIGNING.region));
    // One refresh in flight, however many calls saw the window.
    while (endpoint.requests.length < 2) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(endpoint.requests.length, 2);
    release();

    // Once it lands, calls sign with the rotated keys and token.
    let fresh = await source.get();
    for (let i = 0; fresh.accessKeyId !== ROTATED.accessKeyId && i < 1000; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      fresh = await source.get();
    }
    assert.deepEqual(fresh, ROTATED);
    assert.ok(signedBy(sigv4Headers(SIGNING, REQUEST("{}"), fresh), "{}", ROTATED));
    assert.equal(endpoint.requests.length, 2);
  });

  it("waits for fresh keys once the held ones are about to expire, and rereads a rotated token file", async () => {
    let now = T0;
    endpoint.answer = answerWith(TEST_CREDENTIALS, T0 + 10 * MINUTE);
    const file = join(dir, "rotating-token");
    writeFileSync(file, "first-token");
    const source = new ContainerCredentials(
      { url: `${endpoint.origin}/creds-expired`, variable: "AWS_CONTAINER_CREDENTIALS_FULL_URI", token: { file } },
      { now: () => now },
    );
    await source.get();
    endpoint.answer = answerWith(ROTATED, T0 + 70 * MINUTE);
    writeFileSync(file, "second-token");
    now = T0 + 9.5 * MINUTE; // within the last minute: no longer signed with
    assert.deepEqual(await source.get(), ROTATED);
    assert.deepEqual(
      endpoint.requests.map((r) => r.authorization),
      ["first-token", "second-token"],
    );
  });

  it("fails a call with BAD_GATEWAY when the endpoint answers 500, naming the variable and URL but never the token", async () => {
    endpoint.answer = { status: 500, body: { message: `broken; your token was ${TOKEN}` } };
    const env = containerEnv("/creds-broken");
    const auth = authFor({ url: "https://backend.example", sigv4: SIGNING }, env)!;
    const error = await auth(REQUEST("{}")).then(
      () => assert.fail("signed without credentials"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ServingError);
    assert.equal(error.code, "BAD_GATEWAY");
    assert.equal(error.status, 502);
    const cause = (error.cause as Error).message;
    assert.match(cause, /AWS_CONTAINER_CREDENTIALS_FULL_URI/);
    assert.ok(cause.includes(`${endpoint.origin}/creds-broken`), cause);
    assert.match(cause, /answered 500/);
    assert.ok(!cause.includes(TOKEN) && !error.message.includes(TOKEN), cause);

    // The next call tries again, and succeeds once the endpoint is back.
    endpoint.answer = answerWith(TEST_CREDENTIALS, Date.now() + 60 * MINUTE);
    const headers = await auth(REQUEST("{}"));
    assert.ok(verifySigv4(received(headers), "{}", SIGNING.service, SIGNING.region));
  });

  it("names the token file when it cannot be read", async () => {
    const source = new ContainerCredentials(
      containerEndpointFromEnv({ ...containerEnv("/creds-nofile"), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir, "missing") })!,
    );
    await assert.rejects(source.get(), /AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(.*missing\)/);
    assert.deepEqual(endpoint.requests, []);
  });

  it("reads the relative URI against the ECS agent, and refuses plain http to other hosts", () => {
    assert.deepEqual(containerEndpointFromEnv({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc" }), {
      url: "http://169.254.170.2/v2/credentials/abc",
      variable: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    });
    assert.deepEqual(
      containerEndpointFromEnv({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials",
        AWS_CONTAINER_AUTHORIZATION_TOKEN: "t",
      }),
      { url: "http://169.254.170.23/v1/credentials", variable: "AWS_CONTAINER_CREDENTIALS_FULL_URI", token: { value: "t" } },
    );
    assert.throws(
      () => containerEndpointFromEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://creds.example.com/x" }),
      /AWS_CONTAINER_CREDENTIALS_FULL_URI .* must use https/,
    );
    assert.equal(containerEndpointFromEnv({}), undefined);
  });

  it("still refuses at startup when neither source is configured, naming the variables", () => {
    assert.throws(
      () => authFor({ url: "https://backend.example", sigv4: SIGNING }, {}),
      (error: Error) =>
        /set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/.test(error.message) &&
        /AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/.test(error.message) &&
        /AWS_CONTAINER_CREDENTIALS_FULL_URI/.test(error.message),
    );
  });

  describe("through the gateway", () => {
    let upstream: StubUpstream;
    const gateways: Gateway[] = [];
    const verdicts: boolean[] = [];
    const logLines: string[] = [];

    before(async () => {
      upstream = await new StubUpstream("lambda").start();
      upstream.behaviour = sigv4CheckingBehaviour(SIGNING.service, SIGNING.region, verdicts);
    });
    after(async () => {
      await Promise.all(gateways.map((g) => g.close()));
      await upstream.kill();
    });

    async function start(env: NodeJS.ProcessEnv): Promise<string> {
      const spec = gatewaySpec();
      const signed = { url: upstream.url, sigv4: SIGNING };
      const functions = Object.fromEntries(Object.keys(spec.functions).map((name) => [name, { central: signed }]));
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString("utf8"));
          done();
        },
      });
      const gateway = composeGateway({
        spec,
        settings: parseSettings({ apiKeys: [KEY_A] }),
        source: { kind: "remote", endpoints: { functions, models: {} } },
        env,
        logger: pino({ level: "info" }, sink),
      }).gateway;
      gateways.push(gateway);
      return `http://127.0.0.1:${(await gateway.listen(0)).port}`;
    }

    it("signs streamed and cached calls with the task role's credentials", async () => {
      verdicts.length = 0;
      const base = await start(containerEnv("/creds-gateway"));
      const streamed = await post(base, "/open", { q: 1 });
      const cached = await post(base, "/echo", { q: 2 }, KEY_A);
      assert.deepEqual([streamed.status, cached.status], [200, 200]);
      assert.deepEqual(verdicts, [true, true]);
      assert.deepEqual(
        endpoint.requests.map((r) => r.authorization),
        [TOKEN],
      );
    });

    it("answers 502 when the credentials endpoint fails, logging the cause without the token, and keeps serving", async () => {
      endpoint.answer = { status: 500, body: "agent unavailable" };
      logLines.length = 0;
      const base = await start(containerEnv("/creds-gateway-broken"));
      const streamed = await post(base, "/open", { q: 1 });
      const cached = await post(base, "/echo", { q: 2 }, KEY_A);
      assert.deepEqual([streamed.status, cached.status], [502, 502]);
      assert.equal(((await streamed.json()) as { error: { code: string } }).error.code, "BAD_GATEWAY");
      const log = logLines.join("");
      assert.match(log, /AWS_CONTAINER_CREDENTIALS_FULL_URI/);
      assert.ok(log.includes(`${endpoint.origin}/creds-gateway-broken`));
      assert.ok(!log.includes(TOKEN));

      endpoint.answer = answerWith(TEST_CREDENTIALS, Date.now() + 60 * MINUTE);
      const again = await post(base, "/open", { q: 3 });
      assert.ok([200, 503].includes(again.status), String(again.status));
    });
  });
});
