import assert from "node:assert/strict";
import { modelEndpoint } from "../../../cli/commands/serve";
import { UsageError } from "../../../cli/io";

describe("serve --model-url", () => {
  it("takes a plain URL as it is", () => {
    assert.equal(modelEndpoint("intent@1", "http://10.0.0.20:9001"), "http://10.0.0.20:9001");
  });

  it("takes an endpoint as JSON, whose JWT the pod then signs", () => {
    assert.deepEqual(modelEndpoint("intent@1", '{"url":"http://10.0.0.20:9001","jwt":{"issuer":"cloudloom","audience":"a"}}'), {
      url: "http://10.0.0.20:9001",
      jwt: { issuer: "cloudloom", audience: "a" },
    });
  });

  it("refuses malformed or foreign JSON with a usage error naming the model", () => {
    for (const value of ['{"url":', '{"url":"http://x","jwt":{"issuer":"c"}}', '{"url":"http://x","extra":1}', '{"url":"not a url"}'])
      assert.throws(
        () => modelEndpoint("intent@1", value),
        (e: Error) => e instanceof UsageError && /--model-url intent@1/.test(e.message),
      );
  });
});
