/**
 * Trains the example's intent classifier and writes it as ONNX.
 *
 *   npx tsx examples/support-desk/model/train.ts [--check]
 *
 * Writes `intent.onnx` and `metrics.json` beside this file. With `--check`
 * it writes nothing and exits 1 when the committed files differ from what
 * training produces now.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDataset, INTENTS, split } from "./dataset";
import { featurize, FEATURES } from "./featurize";
import { argmax, forward, initLayers, train, type DenseLayer } from "./mlp";
import { mlpToOnnx } from "./onnx-writer";

/** Input and output tensor names of the intent model. */
export const INTENT_IO = { input: "features", output: "probabilities" } as const;

/** What training produced. */
export interface TrainedIntentModel {
  layers: DenseLayer[];
  onnx: Uint8Array;
  sha256: string;
  accuracy: { train: number; heldOut: number; heldOutSize: number };
}

/** Trains the intent model deterministically. */
export function trainIntentModel(): TrainedIntentModel {
  const { train: trainSet, test } = split(buildDataset());
  const toSample = (e: { text: string; intent: (typeof INTENTS)[number] }) => ({ x: featurize(e.text), y: INTENTS.indexOf(e.intent) });
  const layers = initLayers([FEATURES, 32, INTENTS.length], 42);
  train(layers, trainSet.map(toSample), { epochs: 60, learningRate: 0.5, momentum: 0.9, batchSize: 16, seed: 3 });
  const accuracyOf = (set: typeof test) =>
    set.filter((e) => argmax(forward(layers, featurize(e.text)).at(-1)!) === INTENTS.indexOf(e.intent)).length / set.length;
  const onnx = mlpToOnnx(layers, INTENT_IO);
  return {
    layers,
    onnx,
    sha256: createHash("sha256").update(onnx).digest("hex"),
    accuracy: { train: accuracyOf(trainSet), heldOut: accuracyOf(test), heldOutSize: test.length },
  };
}

function main(): void {
  const model = trainIntentModel();
  const onnxPath = join(__dirname, "intent.onnx");
  const metrics = `${JSON.stringify({ sha256: model.sha256, ...model.accuracy }, null, 2)}\n`;
  if (process.argv.includes("--check")) {
    const same =
      readFileSync(onnxPath).equals(Buffer.from(model.onnx)) && readFileSync(join(__dirname, "metrics.json"), "utf8") === metrics;
    console.log(same ? "intent.onnx is up to date" : "intent.onnx differs from what training produces; run train.ts");
    process.exit(same ? 0 : 1);
  }
  writeFileSync(onnxPath, model.onnx);
  writeFileSync(join(__dirname, "metrics.json"), metrics);
  console.log(`wrote ${onnxPath} (${model.onnx.length} bytes, sha256 ${model.sha256})`);
  console.log(
    `accuracy: train ${(model.accuracy.train * 100).toFixed(1)}%, held-out ${(model.accuracy.heldOut * 100).toFixed(1)}% of ${model.accuracy.heldOutSize}`,
  );
}

if (require.main === module) main();
