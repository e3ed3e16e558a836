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
