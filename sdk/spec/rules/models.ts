/** Models: batching limits, accelerators, and artifacts that exist and match. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ACCELERATORS, isAccelerator, targetsOffering } from "../accelerators";
import { closest } from "../suggest";
import { toMegabytes, toMilliseconds } from "../units";
import { entries, type Rule } from "./report";
import { checkSignature } from "./signature";

/** Checks each model's batching limits and, given a root, its artifact. */
export const modelRule: Rule = (spec, context, report) => {
  for (const [key, model] of entries(spec.models)) {
    const base = `models.${key}.batching`;
    const { maxBatchSize, maxDelay, maxQueue } = model.batching;
    const limits: Array<[string, number]> = [
      ["maxBatchSize", maxBatchSize],
      ["maxDelay", toMilliseconds(maxDelay)],
      ["maxQueue", maxQueue],
    ];
    for (const [field, value] of limits) {
      if (value > 0 && Number.isFinite(value)) continue;
      report(
        "CL_BATCHING_LIMIT",
        `${base}.${field}`,
        `${base}.${field} is ${value}; it must be above zero`,
        field === "maxDelay" ? 'use a delay such as "5 ms"' : `set ${field} to 1 or more (1 turns batching off)`,
      );
    }
    if (context.root === undefined) continue;
    const bytes = checkArtifact(context.root, `models.${key}.artifact`, model.artifact, report);
    if (bytes && context.inspectFiles) checkSignature(`models.${key}`, model, bytes, report);
  }
};

/** The artifact's bytes when the file exists and matches its sha256; otherwise reports why not. */
function checkArtifact(
  root: string,
  path: string,
  artifact: { path: string; sha256: string },
  report: Parameters<Rule>[2],
): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(root, artifact.path));
  } catch {
    report(
      "CL_ARTIFACT_MISSING",
      `${path}.path`,
      `model file "${artifact.path}" does not exist under ${root}`,
      "build or copy the ONNX file there, or correct the path (it is relative to the app's root)",
    );
    return undefined;
  }
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== artifact.sha256) {
    report(
      "CL_ARTIFACT_SHA256_MISMATCH",
      `${path}.sha256`,
      `"${artifact.path}" has sha256 ${actual}, not the declared ${artifact.sha256}`,
      "declare the file's real sha256 (sha256sum FILE), or restore the file that was declared",
    );
    return undefined;
  }
  return bytes;
}

/** Checks each GPU pool's accelerator against the catalog and the target. */
export const acceleratorRule: Rule = (spec, context, report) => {
  for (const [name, pool] of entries(spec.gpuPools)) {
    const path = `gpuPools.${name}.accelerator`;
    if (!isAccelerator(pool.accelerator)) {
      const known = Object.keys(ACCELERATORS);
      const suggestion = closest(pool.accelerator, known);
      report(
        "CL_UNKNOWN_ACCELERATOR",
        path,
        `accelerator "${pool.accelerator}" is not in the catalog${suggestion ? `; did you mean "${suggestion}"?` : "."} Known accelerators: ${known.join(", ")}`,
        `use one of: ${known.join(", ")}`,
      );
      continue;
    }
    const mapping = ACCELERATORS[pool.accelerator];
    const available = mapping.memoryGb * 1024 * pool.gpusPerInstance;
    if (toMegabytes(pool.gpuMemory) > available) {
      report(
        "CL_GPU_MEMORY",
        `gpuPools.${name}.gpuMemory`,
        `${pool.gpuMemory} is more than ${pool.gpusPerInstance} × ${pool.accelerator} hold (${mapping.memoryGb} GB each)`,
        "lower gpuMemory, raise gpusPerInstance, or pick a larger accelerator",
      );
    }
    if (context.target && context.target !== "alicloud" && pool.platform === "serverless") {
      report(
        "CL_POOL_PLATFORM",
        `gpuPools.${name}.platform`,
        `${context.target} has no serverless GPUs; its GPU pools run on Kubernetes node pools`,
        `drop platform (or set it to "kubernetes") for ${context.target}; serverless GPU pools run on alicloud (Function Compute)`,
      );
    }
    if (context.target && !targetsOffering(pool.accelerator).includes(context.target)) {
      report(
        "CL_ACCELERATOR_UNMAPPED",
        path,
        `${pool.accelerator} is not offered on ${context.target}`,
        `pick an accelerator ${context.target} offers, or deploy to: ${targetsOffering(pool.accelerator).join(", ")}`,
      );
    }
  }
};
