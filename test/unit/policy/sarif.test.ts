import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POLICIES } from "../../../policy/policies";
import { evaluatePolicies, toPolicyResources, type Violation } from "../../../policy/runner";
import { toSarif } from "../../../policy/sarif";
import { appSourceOf, declarationsIn, sourceLookup } from "../../../policy/source";
import { gpuCostGuard } from "../../../policy/policies/gpu-cost-guard";

const APP = `import { App } from "cloudloom/sdk";
const app = new App("a");
const central = app.region("central", { kind: "central", placement: {} });
const pool = app.gpuPool("big", { accelerator: "nvidia-h100", maxSize: 64, regions: [central] });
const v1 = app.model("ranker", {
  version: "1",
  artifact: { path: "m.onnx" },
});
const v2 = app.model("ranker", { version: "2", artifact: { path: "m.onnx" } });
app.route("POST /v1/rank.json", { target: v1, auth: "none" });
`;

describe("SARIF locations: the line of the declaration at fault", () => {
  it("finds each declaration's spec key and line in the app's text, model versions included", () => {
    assert.deepEqual(declarationsIn(APP), [
      { section: "regions", key: "central", line: 3 },
      { section: "gpuPools", key: "big", line: 4 },
      { section: "models", key: "ranker@1", line: 5 },
      { section: "models", key: "ranker@2", line: 9 },
      { section: "routes", key: "POST /v1/rank.json", line: 10 },
    ]);
  });

  it("maps spec paths (with fields after the key, and keys holding dots) to the declaration", () => {
    const sourceOf = sourceLookup("app.ts", declarationsIn(APP));
    assert.deepEqual(sourceOf("gpuPools.big.maxSize"), { file: "app.ts", line: 4 });
    assert.deepEqual(sourceOf("models.ranker@2"), { file: "app.ts", line: 9 });
    assert.deepEqual(sourceOf("routes.POST /v1/rank.json.rateLimit"), { file: "app.ts", line: 10 });
    assert.equal(sourceOf("functions.nope"), undefined);
    assert.equal(sourceOf("app"), undefined);
  });

  it("prefers the call sites the App recorded, when it has them", () => {
    const dir = mkdtempSync(join(tmpdir(), "cloudloom-sarif-"));
    writeFileSync(join(dir, "app.ts"), APP);
    const recorded = { sourceOf: (path: string) => (path === "gpuPools.big" ? { file: join(dir, "pools.ts"), line: 7 } : undefined) };
    const sourceOf = appSourceOf(join(dir, "app.ts"), recorded);
    assert.deepEqual(sourceOf("gpuPools.big"), { file: join(dir, "pools.ts"), line: 7 });
    assert.deepEqual(sourceOf("regions.central"), { file: join(dir, "app.ts"), line: 3 }, "falls back to the text");
  });

  it("points each result at the app file and the line, and lists spec problems as results with their code as rule", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloudloom-sarif-"));
    const file = join(dir, "app.ts");
    writeFileSync(file, APP);
    const spec = {
      gpuPools: { big: { accelerator: "nvidia-h100", maxSize: 64 } },
      models: {},
      routes: {},
      regions: {},
      scalingPolicies: {},
    };
    const violations: Violation[] = await evaluatePolicies(
      toPolicyResources([{ type: "cloudloom:kubernetes:App", name: "a", custom: false, inputs: { spec: JSON.stringify(spec) } }]),
      {},
      [gpuCostGuard],
    );
    assert.deepEqual(
      violations.map((v) => v.path),
      ["gpuPools.big", "gpuPools.big"],
    );
    const problems = [{ code: "CL_MIN_GT_MAX" as never, path: "models.ranker@2.scaling", message: "min 3 > max 2", fix: "lower min" }];
    const sarif: any = toSarif(violations, POLICIES, { artifact: file, sourceOf: appSourceOf(file), problems, root: dir });
    const results = sarif.runs[0].results;
    assert.deepEqual(
      results.map((r: any) => [
        r.ruleId,
        r.locations[0].physicalLocation.artifactLocation.uri,
        r.locations[0].physicalLocation.region?.startLine,
      ]),
      [
        ["CL_MIN_GT_MAX", "app.ts", 9],
        ["cloudloom-gpu-cost-guard", "app.ts", 4],
        ["cloudloom-gpu-cost-guard", "app.ts", 4],
      ],
    );
    assert.match(results[0].message.text, /models\.ranker@2\.scaling: min 3 > max 2 \(fix: lower min\)/);
    assert.ok(sarif.runs[0].tool.driver.rules.some((r: any) => r.id === "CL_MIN_GT_MAX"));
  });

  it("names the entry of a labelled cloud resource, so its result points at that declaration too", async () => {
    const labels = { "cloudloom.dev/app": "a", "cloudloom.dev/kind": "model", "cloudloom.dev/name": "ranker@1" };
    const [violation] = await evaluatePolicies(
      toPolicyResources([
        {
          type: "kubernetes:apps/v1:Deployment",
          name: "a-ranker-1",
          custom: true,
          inputs: { metadata: { labels }, spec: { template: { spec: { initContainers: [] } } } },
        },
      ]),
      {},
      POLICIES.filter((p) => p.name === "cloudloom-models-pinned"),
    );
    assert.equal(violation.path, "models.ranker@1");
  });
});
