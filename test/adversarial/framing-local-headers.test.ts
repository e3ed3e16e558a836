import assert from "node:assert/strict";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import { parseSettings } from "../../gateway/config";
import app from "../fixtures/local-app/app";

const KEY = "key-local-0123456789abcdef";

describe("what a local handler sees (in-process runtime, real sockets)", function () {
  this.timeout(60_000);
  let target: LocalTarget;
  let base: string;

  before(async () => {
    target = new LocalTarget({
      spec: app.toDraft(),
      root: app.root,
      settings: parseSettings({ apiKeys: [KEY] }),
      logger: pino({ level: "silent" }),
    });
    base = `http://127.0.0.1:${(await target.listen(0)).port}`;
  });
  after(() => target.close());

  it("never hands a handler the caller's API key or a client's x-cloudloom-* headers; it gets the gateway's tenant", async () => {
    for (const credentials of [{ authorization: `Bearer ${KEY}` }, { "x-api-key": KEY }] as Array<Record<string, string>>) {
      const res = await fetch(`${base}/headers`, {
        method: "POST",
        body: "{}",
        headers: {
          "content-type": "application/json",
          "x-cloudloom-tenant": "t-forged",
          "x-cloudloom-version": "forged",
          "x-cloudloom-locality": "de",
          "proxy-authorization": "Basic Zm9yZ2Vk",
          ...credentials,
        },
      });
      assert.equal(res.status, 200);
      const { headers } = (await res.json()) as { headers: Record<string, string> };
      const leaked = Object.keys(headers).filter(
        (name) =>
          ["authorization", "x-api-key", "proxy-authorization"].includes(name) ||
          (name.startsWith("x-cloudloom-") && name !== "x-cloudloom-tenant"),
      );
      assert.deepEqual(leaked, []);
      assert.ok(!JSON.stringify(headers).includes(KEY), "the key appears nowhere");
      assert.match(headers["x-cloudloom-tenant"], /^t-[0-9a-f]{12}$/);
      assert.equal(headers["content-type"], "application/json", "the client's own headers still arrive");
    }
  });
});
