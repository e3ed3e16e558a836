/**
 * Reads and verifies model artifacts once per version. A missing file or a
 * sha256 mismatch makes that version unavailable, with the reason; every
 * other version keeps serving.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ModelSpec } from "../sdk/spec";

/** A verified artifact, or why the version cannot be served. */
export type ArtifactCheck = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/** Reads the model's file under `root` and checks its sha256. */
export function loadVerifiedArtifact(root: string, model: ModelSpec): ArtifactCheck {
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(root, model.artifact.path));
  } catch {
    return { ok: false, reason: `model ${model.name}@${model.version}: ${model.artifact.path} does not exist` };
  }
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== model.artifact.sha256) {
    return {
      ok: false,
      reason: `model ${model.name}@${model.version}: ${model.artifact.path} has sha256 ${actual}, declared ${model.artifact.sha256}; refusing to serve it`,
    };
  }
  return { ok: true, bytes };
}
