/**
 * The benchmark's large model: an MLP with the intent model's input
 * (512 features) and about 12 MB of random weights, generated at bench time
 * (never committed).
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { initLayers } from "../../examples/support-desk/model/mlp";
import { mlpToOnnx } from "../../examples/support-desk/model/onnx-writer";

/** Writes the large model under `dir`; returns its path relative to `dir` and its sha256. */
export function writeLargeModel(dir: string): { path: string; sha256: string; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const onnx = mlpToOnnx(initLayers([512, 2048, 1024, 5], 11), { input: "features", output: "probabilities" });
  writeFileSync(join(dir, "large.onnx"), onnx);
  return { path: "large.onnx", sha256: createHash("sha256").update(onnx).digest("hex"), bytes: onnx.length };
}
