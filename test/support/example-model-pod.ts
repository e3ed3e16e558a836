/** The example's intent model as one pod's server would load it: its spec file written out, scoped to `intent@1`. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScoped } from "../../cli/commands/serve";
import example from "../../examples/support-desk/app";
import type { Target } from "../../sdk";

/** What `PodServer` takes for the example's intent@1 model, with the spec validated for `target`. */
export function exampleModelPod(target: Target) {
  const specFile = join(mkdtempSync(join(tmpdir(), "cloudloom-spec-")), "spec.json");
  writeFileSync(specFile, JSON.stringify(example.toSpec({ target })));
  const scoped = loadScoped({
    spec: specFile,
    root: example.root,
    only: "model:intent@1",
    artifact: join(example.root, "model/intent.onnx"),
    modelUrls: [],
  });
  if ("problems" in scoped) throw new Error(scoped.problems);
  return scoped;
}
