import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { planUnderMocks } from "../../../providers/plan";

describe("the stack program (stacks/index.ts)", () => {
  it("deploys the app named in stack config on the configured target and exports its endpoints", async () => {
    pulumi.runtime.setAllConfig({
      "cloudloom:target": "kubernetes",
      "cloudloom:app": "examples/support-desk",
      "cloudloom:artifactBaseUrl": "https://models.example.com/support-desk",
      "cloudloom:kubeContext": "staging",
    });
    const { result, resources } = await planUnderMocks(
      () => (require("../../../stacks/index") as { endpoints: pulumi.Output<any> }).endpoints,
    );
    assert.deepEqual(Object.keys(result.models["intent@1"]), ["central", "edge-berlin"]);
    const provider = resources.find((r) => r.type === "pulumi:providers:kubernetes");
    assert.equal(provider?.inputs.context, "staging");
    assert.ok(resources.some((r) => r.type === "cloudloom:kubernetes:App" && r.name === "support-desk"));
    const managed = resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    assert.ok(managed.length > 10);
    for (const r of managed)
      assert.match(
        r.provider ?? "",
        /pulumi:providers:kubernetes::support-desk-k8s::/,
        `${r.type} ${r.name} does not use the explicit provider`,
      );
  });
});

describe("stack config errors", () => {
  const settings = (values: Record<string, string>) => ({
    target: "kubernetes",
    app: "examples/support-desk",
    get: (key: string) => values[key],
    getSecret: () => undefined,
    secretKeys: () => undefined,
  });

  it("names a missing required setting and the command that sets it", async () => {
    const { runStack } = await import("../../../stacks/program.js");
    await assert.rejects(
      planUnderMocks(() => runStack(settings({}))),
      (e: Error) =>
        (e as { code?: string }).code === "CL_TARGET_CONFIG" &&
        /cloudloom:artifactBaseUrl is required; set it with: pulumi config set cloudloom:artifactBaseUrl/.test(e.message),
    );
  });

  it("refuses an unknown accelerator label preset instead of crashing", async () => {
    const { runStack } = await import("../../../stacks/program.js");
    await assert.rejects(
      planUnderMocks(() => runStack(settings({ artifactBaseUrl: "https://m.example", acceleratorLabels: "gcp" }))),
      /cloudloom:acceleratorLabels is "gcp"; use one of gke, eks, ack/,
    );
  });

  it("refuses an app module that does not exist, with a fix", async () => {
    const { runStack } = await import("../../../stacks/program.js");
    await assert.rejects(
      planUnderMocks(() => runStack({ ...settings({ artifactBaseUrl: "https://m.example" }), app: "examples/nowhere" })),
      /examples\/nowhere does not exist/,
    );
  });
});
