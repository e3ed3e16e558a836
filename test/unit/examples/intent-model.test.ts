import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import app from "../../../examples/support-desk/app";
import { featurize } from "../../../examples/support-desk/model/featurize";
import { forward } from "../../../examples/support-desk/model/mlp";
import { trainIntentModel } from "../../../examples/support-desk/model/train";

const MODEL_DIR = join(__dirname, "../../../examples/support-desk/model");

describe("the example intent model", () => {
  const trained = trainIntentModel();

  it("is reproduced byte for byte by the training script", () => {
    assert.ok(readFileSync(join(MODEL_DIR, "intent.onnx")).equals(Buffer.from(trained.onnx)));
  });

  it("matches the sha256 the example app declares", () => {
    assert.equal(app.toSpec().models["intent@1"].artifact.sha256, trained.sha256);
  });

  it("records the accuracy it reaches on held-out templates", () => {
    const metrics = JSON.parse(readFileSync(join(MODEL_DIR, "metrics.json"), "utf8"));
    assert.equal(metrics.heldOut, trained.accuracy.heldOut);
    assert.ok(trained.accuracy.heldOut > 0.6, `held-out accuracy ${trained.accuracy.heldOut}`);
  });

  it("computes in onnxruntime what the JavaScript network computes", async () => {
    const session = await ort.InferenceSession.create(join(MODEL_DIR, "intent.onnx"), { intraOpNumThreads: 1 });
    const messages = ["I was charged twice", "the app crashes on my phone", "claim your free prize now"];
    const batch = new Float32Array(messages.length * 512);
    messages.forEach((m, i) => batch.set(featurize(m), i * 512));
    const { probabilities } = await session.run({ features: new ort.Tensor("float32", batch, [messages.length, 512]) });
    assert.deepEqual(probabilities.dims, [3, 5]);
    messages.forEach((m, i) => {
      const expected = forward(trained.layers, featurize(m)).at(-1)!;
      for (let k = 0; k < 5; k++) assert.ok(Math.abs((probabilities.data as Float32Array)[i * 5 + k] - expected[k]) < 1e-5);
    });
    await session.release();
  });
});
