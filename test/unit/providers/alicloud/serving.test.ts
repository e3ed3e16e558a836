import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { planUnderMocks } from "../../../../providers/plan";
import { configurationRevision } from "../../../../providers/alicloud/serving";

/** The digest of a configuration as FC receives it: every value resolved, in the configuration's key order. */
const digestOf = (resolved: object) => createHash("sha256").update(JSON.stringify(resolved)).digest("hex").slice(0, 16);

describe("Alibaba Cloud: a function configuration's revision", () => {
  const resolved = {
    functionName: "fn",
    code: { zipFile: "UEsDBA==" },
    layers: ["acs:fc:cn-hangzhou:1:layers/runtime/versions/1", "acs:fc:cn-hangzhou:1:layers/extra/versions/2"],
    environmentVariables: { B: "2", A: "1", TOKEN: "s3cr3t" },
    role: "acs:ram::1:role/fn",
    memorySize: 512,
  };

  it("digests the configuration as resolved: Outputs and promises nested in objects and arrays, and secrets", async () => {
    const { result } = await planUnderMocks(() =>
      configurationRevision({
        functionName: "fn",
        code: { zipFile: pulumi.output("UEsDBA==") },
        layers: [pulumi.output(resolved.layers[0]), resolved.layers[1]],
        environmentVariables: { B: "2", A: pulumi.output("1"), TOKEN: pulumi.secret("s3cr3t") },
        role: Promise.resolve("acs:ram::1:role/fn"),
        memorySize: 512,
      }),
    );
    assert.equal(result, digestOf(resolved));
  });

  it("is no secret when the configuration holds one, and digests a configuration with no Outputs as it is", async () => {
    const { result } = await planUnderMocks(() =>
      pulumi.all([
        pulumi.isSecret(configurationRevision({ ...resolved, environmentVariables: { TOKEN: pulumi.secret("s3cr3t") } })),
        configurationRevision(resolved),
      ]),
    );
    assert.deepEqual(result, [false, digestOf(resolved)]);
  });
});
