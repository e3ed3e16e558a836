import assert from "node:assert/strict";
import { LocalRuntime } from "../../../runtime/runtime";
import { App } from "../../../sdk";
import example from "../../../examples/support-desk/app";

describe("local runtime signatures", () => {
  it("takes a model whose signature it cannot batch out of service, with the reason, and keeps the rest", async () => {
    const app = new App("sig", { root: example.root });
    const central = app.region("central", { kind: "central", placement: {} });
    const artifact = example.toDraft().models["intent@1"].artifact;
    const outputs = { probabilities: { type: "float32" as const, shape: [-1, 5] } };
    app.model("ids", {
      version: "1",
      artifact,
      signature: { inputs: { features: { type: "int64", shape: [-1, 512] } }, outputs },
      regions: [central],
    });
    app.model("ok", {
      version: "1",
      artifact,
      signature: { inputs: { features: { type: "float32", shape: [-1, 512] } }, outputs },
      regions: [central],
    });
    const warnings: string[] = [];
    const runtime = new LocalRuntime(app.toSpec(), app.root, { warn: (m) => warnings.push(m) });
    assert.equal(runtime.unavailable.get("ids@1"), "model ids@1: features is int64; the local runtime serves float32 tensors");
    assert.deepEqual(warnings, ["model ids@1: features is int64; the local runtime serves float32 tensors"]);
    assert.throws(() => runtime.predict("ids@1", "central", { features: [] }), /MODEL_UNAVAILABLE|unavailable/);
    assert.equal((await runtime.predict("ok@1", "central", { features: new Array(512).fill(0) })).outputs.probabilities.length, 5);
    await runtime.close();
  });
});
