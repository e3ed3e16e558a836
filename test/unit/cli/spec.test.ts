import assert from "node:assert/strict";
import { runCli as run } from "../../support/cli";

describe("cloudloom spec", () => {
  it("prints the example app's spec as canonical JSON and exits 0", async () => {
    const { code, out } = await run("spec", "examples/support-desk", "--target", "aws");
    assert.equal(code, 0);
    const spec = JSON.parse(out);
    assert.equal(spec.apiVersion, "cloudloom/v1");
    assert.equal(spec.app, "support-desk");
    assert.deepEqual(Object.keys(spec.routes), ["POST /v1/classify", "POST /v1/models/intent"]);
  });

  it("lists every problem and exits 1 for a bad app", async () => {
    const { code, err } = await run("spec", "test/fixtures/bad-app.ts");
    assert.equal(code, 1);
    assert.match(err, /CL_MIN_GT_MAX at scalingPolicies\.p\.minInstances/);
    assert.match(err, /CL_ARTIFACT_MISSING at models\.m@1\.artifact\.path/);
  });

  it("exits 2 with a fix for a missing file, and for an unknown command", async () => {
    const missing = await run("spec", "examples/nope");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /does not exist\n {2}fix:/);
    assert.equal((await run("frobnicate")).code, 2);
    assert.equal((await run("spec", "--bogus-flag", "x")).code, 2);
  });

  it("prints help with exit 0", async () => {
    const { code, out } = await run("spec", "--help");
    assert.equal(code, 0);
    assert.match(out, /Exit codes/);
  });
});
