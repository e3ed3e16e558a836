import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDashboardAssets, writeDashboardAssets } from "../../../../gateway/dashboard/assets";

describe("the dashboard's bundle", () => {
  const dir = mkdtempSync(join(tmpdir(), "dashboard-assets-"));

  it("bundles the page and uPlot into one script and one stylesheet that load nothing from elsewhere", async () => {
    await writeDashboardAssets(dir, "gateway/ui/main.ts");
    const script = readFileSync(join(dir, "dashboard.js"), "utf8");
    const styles = readFileSync(join(dir, "dashboard.css"), "utf8");
    assert.match(script, /uplot/, "uPlot is inside");
    assert.match(styles, /\.uplot/, "uPlot's stylesheet is inside");
    for (const text of [script, styles]) assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org\/)/, "no CDN, no remote URL");
    assert.doesNotMatch(script, /\brequire\(|\bimport\(/, "nothing loaded at run time");
  });

  it("serves a prebuilt bundle as it is, without bundling (the published package has no sources)", async () => {
    const assets = await loadDashboardAssets(dir, join(dir, "no-such-entry.ts"));
    assert.deepEqual(assets["dashboard.js"], readFileSync(join(dir, "dashboard.js")));
    assert.deepEqual(assets["dashboard.css"], readFileSync(join(dir, "dashboard.css")));
  });

  it("says so when there is neither a bundle nor the sources", async () => {
    await assert.rejects(loadDashboardAssets(join(dir, "missing"), join(dir, "no-such-entry.ts")), /no-such-entry\.ts/);
  });
});
