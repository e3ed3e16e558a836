import assert from "node:assert/strict";
import { resolve } from "node:path";
import { ESLint } from "eslint";

const ROOT = resolve(__dirname, "../../..");

/** The dependency-rule messages eslint.config.mjs gives `source` placed at `file`. */
async function refusals(file: string, source: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: ROOT }).lintText(`${source}\nexport {};\n`, { filePath: resolve(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports" || m.ruleId === "no-restricted-syntax").map((m) => m.message);
}

const refused: Array<[folder: string, file: string, source: string, reason: RegExp]> = [
  ["sdk/spec", "sdk/spec/x.ts", 'import "../app";', /sdk\/spec imports nothing else/],
  ["sdk/spec", "sdk/spec/x.ts", 'import "..";', /sdk\/spec imports nothing else/],
  ["sdk/spec", "sdk/spec/rules/x.ts", 'import "../../handler";', /sdk\/spec imports nothing else/],
  ["sdk", "sdk/x.ts", 'import "../runtime/runtime";', /the SDK depends on sdk\/spec only/],
  ["sdk/graph", "sdk/graph/x.ts", 'import "../app";', /the graph model imports sdk\/spec only/],
  ["sdk/graph", "sdk/graph/x.ts", 'import "../../gateway/gateway";', /the SDK depends on sdk\/spec only/],
  ["gateway/ui", "gateway/ui/x.ts", 'import "../dashboard/dashboard";', /runs in the browser/],
  ["gateway/ui", "gateway/ui/x.ts", 'import "../../sdk/spec";', /runs in the browser/],
  ["runtime/contract.ts", "runtime/contract.ts", 'import { readFileSync } from "node:fs";', /imports nothing/],
  ["runtime", "runtime/pod/x.ts", 'import "../../gateway/gateway";', /the runtime never sees the gateway/],
  ["runtime", "runtime/x.ts", 'import "@pulumi/pulumi";', /depend on Pulumi/],
  ["gateway", "gateway/stages/x.ts", 'import "../../providers/registry";', /see providers/],
  ["gateway", "gateway/x.ts", 'import "@pulumi/pulumi";', /depend on Pulumi/],
  ["gateway", "gateway/backends/x.ts", 'import "../../runtime/runtime";', /only runtime\/contract.ts/],
  ["providers", "providers/aws/x.ts", 'import "../../gateway/gateway";', /reached only from cli/],
  ["providers", "providers/aws/x.ts", 'import "../../runtime/pod/pod-server";', /only runtime\/contract.ts/],
  ["providers", "providers/aws/x.ts", 'import "@pulumi/alicloud/fc";', /own cloud's package only/],
  ["providers", "providers/kubernetes/x.ts", 'import "../aws/function";', /never reaches into another cloud's provider/],
  ["runtime/contract.ts", "runtime/contract.ts", 'require("../gateway/gateway");', /import modules of other folders statically/],
  ["providers", "providers/aws/x.ts", 'void import("../../gateway/gateway");', /import modules of other folders statically/],
  ["providers", "providers/registry.ts", 'import "../runtime";', /only runtime\/contract.ts/],
  ["policy", "policy/policies/x.ts", 'import "../../runtime/runtime";', /only runtime\/contract.ts/],
  ["cli", "cli/commands/x.ts", 'import "../../gateway/gateway";', /public entry, gateway\/index.ts/],
  ["cli", "cli/x.ts", 'import "../runtime/pod/pod-server";', /public entry, runtime\/index.ts/],
  ["stacks", "stacks/x.ts", 'import "../providers/aws/app";', /through providers\/registry.ts/],
];

const allowed: Array<[file: string, source: string]> = [
  ["runtime/contract.ts", 'import type { Server } from "node:http";'],
  ["sdk/spec/rules/x.ts", 'import "../units";'],
  ["providers/kubernetes/x.ts", 'import "./gateway";'],
  ["providers/aws/x.ts", 'import "../../runtime/contract";'],
  ["gateway/x.ts", 'import "../runtime/contract";'],
  ["gateway/dashboard/x.ts", 'import "../../sdk/graph";'],
  ["sdk/graph/x.ts", 'import "../spec/schema";'],
  ["gateway/ui/x.ts", 'import "../dashboard/live-lines";'],
  ["gateway/ui/x.ts", 'import "uplot";'],
  ["cli/x.ts", 'import "../gateway";'],
  ["cli/x.ts", 'import "../runtime/index";'],
  ["providers/aws/x.ts", 'import "../kubernetes/app";'],
  ["cli/x.ts", 'require(resolve(root, "handler.ts"));'],
  ["cli/main.ts", 'void import("./commands/plan.js");'],
  ["stacks/x.ts", 'import "../providers/registry";'],
];

describe("the dependency direction, enforced by lint", function () {
  // Loading typescript-eslint takes seconds on a loaded 2-core machine.
  this.timeout(120_000);

  for (const [folder, file, source, reason] of refused)
    it(`refuses in ${folder}: ${source}`, async () => {
      const messages = await refusals(file, source);
      assert.ok(
        messages.some((m) => reason.test(m)),
        `expected ${reason} for ${file}, got ${JSON.stringify(messages)}`,
      );
    });

  it("allows what the architecture allows", async () => {
    for (const [file, source] of allowed) assert.deepEqual(await refusals(file, source), [], `${file}: ${source}`);
  });
});
