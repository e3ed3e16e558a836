import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli as run } from "../../support/cli";

describe("cloudloom spec", () => {
  it("prints the example app's spec as canonical JSON and exits 0", async () => {
    const { code, out } = await run("spec", "examples/support-desk", "--target", "aws");
    assert.equal(code, 0);
    const spec = JSON.parse(out);
    assert.equal(spec.apiVersion, "cloudloom/v1");
    assert.equal(spec.app, "support-desk");
    assert.deepEqual(Object.keys(spec.routes), ["POST /v1/classify", "POST /v1/models/intent", "POST /v1/tickets/reclassify"]);
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

  it("lists every mistake of the mistakes fixture, each with its path and a did-you-mean where one fits", async () => {
    const { code, err } = await run("spec", "test/fixtures/mistakes");
    assert.equal(code, 1);
    assert.match(err, /app "mistakes" has 7 problem\(s\)/);
    assert.match(err, /CL_FIELD_UNKNOWN at functions\.classify\.memroy: .*did you mean "memory"\?/);
    assert.match(err, /CL_FIELD_UNKNOWN at models\.intent@1\.batching\.maxBatchSzie: .*did you mean "maxBatchSize"\?/);
    assert.match(err, /CL_UNKNOWN_ACCELERATOR at gpuPools\.gpu\.accelerator: .*nvidia-t4, nvidia-a10/);
    assert.doesNotMatch(err, /gpuMemory/);
    assert.match(err, /CL_HANDLER_MISSING at functions\.missing\.handler: .*did you mean "handlers\/classify\.ts"\?/);
    assert.match(err, /CL_HANDLER_LOAD at functions\.throws\.handler: .*CRM_URL is not set/);
    assert.match(err, /CL_HANDLER_EXPORT at functions\.no-export\.handler/);
    assert.match(err, /CL_SIGNATURE_MISMATCH at models\.intent@1\.signature\.inputs\.features: .*float32 \[batch, 512\]/);
  });

  it("says in one line, with a fix, why a file is not an app", async () => {
    const readme = await run("spec", "README.md");
    assert.equal(readme.code, 2);
    assert.equal(readme.err.split("\n")[0], "README.md is not a TypeScript or JavaScript module");
    assert.match(readme.err, /^README.md .*\n {2}fix: .*\n$/);
    const dir = mkdtempSync(join(tmpdir(), "cloudloom-spec-"));
    writeFileSync(join(dir, "app.ts"), 'import { App } from "cloudloom";\nconst app = new App("x" { root: __dirname });\n');
    const syntax = await run("spec", dir);
    assert.equal(syntax.code, 2);
    assert.match(syntax.err, /app\.ts does not load: syntax error at .*app\.ts:2:\d+: .*\n {2}fix: fix the syntax error/);
    const handlers = await run("spec", "test/fixtures/mistakes/handlers/classify.ts");
    assert.equal(handlers.code, 2);
    assert.match(handlers.err, /does not export an App \(it exports handler\)/);
  });

  it("prints help with exit 0", async () => {
    const { code, out } = await run("spec", "--help");
    assert.equal(code, 0);
    assert.match(out, /Exit codes/);
  });
});
