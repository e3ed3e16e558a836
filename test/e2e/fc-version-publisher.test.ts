import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { fcVersionPublisher, type FcVersionPublishInputs } from "../../providers/alicloud/version-publisher";

interface Call {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: any;
}

describe("FC version publishing through FC's API (the official SDK against a stand-in on 127.0.0.1)", () => {
  const calls: Call[] = [];
  let server: Server;
  let inputs: FcVersionPublishInputs;
  const saved = { ...process.env };

  before(async () => {
    let nextVersion = 7;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        calls.push({ method: req.method!, url: req.url!, headers: req.headers, body: text ? JSON.parse(text) : undefined });
        res.setHeader("content-type", "application/json");
        if (req.method === "POST" && req.url!.endsWith("/versions")) res.end(JSON.stringify({ versionId: String(nextVersion++) }));
        else if (req.method === "DELETE") res.writeHead(204).end();
        else res.end(JSON.stringify({ functionName: "support-desk-intent-central" }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = "LTAI-test-key";
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = "test-secret";
    inputs = {
      endpoint: `127.0.0.1:${(server.address() as { port: number }).port}`,
      protocol: "http",
      functionName: "support-desk-intent-central",
      environment: { CLOUDLOOM_MODEL_VERSION: "2", LOG_LEVEL: "info" },
      description: "cloudloom model intent@2",
    };
  });
  after(async () => {
    process.env = saved;
    await new Promise((resolve) => server.close(resolve));
  });

  it("sets the version's environment on the function, then publishes, and returns FC's version id", async () => {
    const created = await fcVersionPublisher.create(inputs);
    assert.equal(created.id, "support-desk-intent-central/7");
    assert.equal(created.outs.versionId, "7");
    assert.deepEqual(
      calls.map((c) => [c.method, c.url.split("?")[0]]),
      [
        ["PUT", "/2023-03-30/functions/support-desk-intent-central"],
        ["POST", "/2023-03-30/functions/support-desk-intent-central/versions"],
      ],
    );
    assert.deepEqual(calls[0].body, { environmentVariables: inputs.environment, description: "cloudloom model intent@2" });
    assert.deepEqual(calls[1].body, { description: "cloudloom model intent@2" });
    for (const call of calls)
      assert.match(
        String(call.headers.authorization),
        /^ACS3-HMAC-SHA256 Credential=LTAI-test-key,SignedHeaders=.+,Signature=[0-9a-f]{64}$/,
      );
  });

  it("replaces a version when what it publishes changes, and deletes it when it goes", async () => {
    const diff = await fcVersionPublisher.diff!("f/7", inputs, { ...inputs, environment: { CLOUDLOOM_MODEL_VERSION: "3" } });
    assert.deepEqual([diff.changes, diff.replaces, diff.deleteBeforeReplace], [true, ["environment"], false]);
    assert.equal((await fcVersionPublisher.diff!("f/7", inputs, { ...inputs })).changes, false);
    calls.length = 0;
    await fcVersionPublisher.delete!("f/7", { ...inputs, versionId: "7" });
    assert.deepEqual(
      calls.map((c) => [c.method, c.url.split("?")[0]]),
      [["DELETE", "/2023-03-30/functions/support-desk-intent-central/versions/7"]],
    );
  });
});
