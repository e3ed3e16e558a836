import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli as run } from "../../support/cli";

describe("cloudloom graph", () => {
  it("writes the example app's graph to --out as a standalone SVG, with what each entry becomes on the target", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "graph-")), "app.svg");
    const { code, err } = await run("graph", "examples/support-desk", "--target", "alicloud", "--out", out);
    assert.equal(code, 0, err);
    const svg = readFileSync(out, "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, />FC GPU function, fc\.gpu\.tesla\.1 ×2 regions</);
    assert.doesNotMatch(svg, /<script|href="http|@import|url\(http/, "nothing to run or fetch");
  });

  it("prints the SVG without --out, and draws the app alone without --target", async () => {
    const { code, out } = await run("graph", "examples/support-desk");
    assert.equal(code, 0);
    assert.match(out, /<title>support-desk: 12 entries<\/title>/);
    assert.doesNotMatch(out, /class="becomes"/);
  });

  it("exits 2 for an unknown target and 1 for an app with problems", async () => {
    const unknown = await run("graph", "examples/support-desk", "--target", "gcp");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /--target gcp is not a target; choose one of: aws, alicloud, kubernetes/);
    const bad = await run("graph", "test/fixtures/bad-app.ts");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /CL_MIN_GT_MAX/);
  });
});
