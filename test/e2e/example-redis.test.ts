import assert from "node:assert/strict";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import app from "../../examples/support-desk/app";
import { parseSettings } from "../../gateway/config";
import { redisForSuite, type RedisServer } from "../support/redis";

const KEY = "example-redis-test-key-0123456789";

describe("the example app with its rate limits on a real redis-server", () => {
  let redis: RedisServer | undefined;
  let target: LocalTarget;
  let base: string;

  before(async function () {
    redis = await redisForSuite(this);
    // Bursts with every failure policy: a burst bucket once made any Redis setting refuse to start.
    target = new LocalTarget({
      spec: app.toDraft(),
      root: app.root,
      settings: parseSettings({ redis: { url: redis!.url }, apiKeys: [KEY] }),
      logger: pino({ level: "silent" }),
    });
    base = `http://127.0.0.1:${(await target.listen(0)).port}`;
  });
  after(async () => {
    await target?.close();
    await redis?.stop();
  });

  it("starts, and answers each route with its rate and burst policy", async () => {
    const classify = await fetch(`${base}/v1/classify`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ message: "I was charged twice on my invoice" }),
    });
    assert.equal(classify.status, 200);
    assert.equal(((await classify.json()) as { intent: string }).intent, "billing");
    assert.equal(classify.headers.get("ratelimit-policy"), '"route";q=600;w=60, "burst";q=100;w=60');
    const predict = await fetch(`${base}/v1/models/intent`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ inputs: { features: new Array(512).fill(0) } }),
    });
    assert.equal(predict.status, 200);
    assert.equal(predict.headers.get("ratelimit-policy"), '"route";q=100;w=1, "burst";q=50;w=1');
  });
});
