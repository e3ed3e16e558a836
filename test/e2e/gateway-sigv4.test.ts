import assert from "node:assert/strict";
import pino from "pino";
import { parseSettings } from "../../gateway/config";
import { composeGateway } from "../../cli/compose-gateway";
import type { Gateway } from "../../gateway/gateway";
import { gatewaySpec, KEY_A, post } from "../support/gateway-app";
import { sigv4CheckingBehaviour, useTestCredentials } from "../support/sigv4";
import { StubUpstream } from "../support/upstream";

describe("gateway: SigV4 to IAM-authenticated backends", () => {
  let upstream: StubUpstream;
  let gateway: Gateway;
  let base: string;
  const verdicts: boolean[] = [];
  let restoreCredentials: () => void;

  before(async () => {
    upstream = await new StubUpstream("lambda").start();
    upstream.behaviour = sigv4CheckingBehaviour("lambda", "eu-west-1", verdicts);
    restoreCredentials = useTestCredentials();
    const spec = gatewaySpec();
    const signed = { url: upstream.url, sigv4: { service: "lambda", region: "eu-west-1" } };
    const functions = Object.fromEntries(Object.keys(spec.functions).map((name) => [name, { central: signed }]));
    gateway = composeGateway({
      spec,
      settings: parseSettings({ apiKeys: [KEY_A] }),
      source: { kind: "remote", endpoints: { functions, models: {} } },
      logger: pino({ level: "silent" }),
    }).gateway;
    base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
  });
  after(async () => {
    await gateway.close();
    await upstream.kill();
    restoreCredentials();
  });

  it("signs streamed and cached requests so the backend's own SigV4 check accepts them", async () => {
    const streamed = await post(base, "/open", { q: 1 });
    const cached = await post(base, "/echo", { q: 2 }, KEY_A);
    assert.deepEqual([streamed.status, cached.status], [200, 200]);
    assert.deepEqual(verdicts, [true, true]);
    assert.match(
      String(upstream.received[0].headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request/,
    );
  });

  it("refuses to start without AWS credentials for a signed endpoint, naming the variables", () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    assert.throws(
      () =>
        composeGateway({
          spec: gatewaySpec(),
          settings: parseSettings({}),
          source: {
            kind: "remote",
            endpoints: {
              functions: { echo: { central: { url: upstream.url, sigv4: { service: "lambda", region: "eu-west-1" } } } },
              models: {},
            },
          },
          logger: pino({ level: "silent" }),
        }),
      /set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });
});
