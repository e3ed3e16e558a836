import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../../..");

describe("the SDK reference (TypeDoc, from the JSDoc)", function () {
  // TypeDoc type-checks the SDK: seconds on a loaded 2-core machine.
  this.timeout(180_000);

  it("generates with every export documented and every link resolved", () => {
    const typedoc = resolve(ROOT, "node_modules/typedoc/bin/typedoc");
    const run = spawnSync(process.execPath, [typedoc, "--emit", "none"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  });
});
