import assert from "node:assert/strict";
import { BackendHealth } from "../../../gateway/routing/health";
import { pickRegion, regionLevels } from "../../../gateway/routing/locality";
import { compileSplit, pickVersion } from "../../../gateway/routing/versions";
import type { RegionSpec } from "../../../sdk";

const region = (kind: "central" | "edge", localities: string[] = []): RegionSpec => ({ kind, localities, placement: {} });
const regions = { central: region("central"), fra: region("edge", ["de"]), ber: region("edge", ["de"]), par: region("edge", ["fr"]) };

describe("locality routing", () => {
  const levels = regionLevels(["central", "fra", "ber", "par"], regions);

  it("prefers a healthy edge that serves the client's locality, spreading across equals", () => {
    assert.equal(
      pickRegion(levels, "de", () => true, 0.7, 0),
      "fra",
    );
    assert.equal(
      pickRegion(levels, "de", () => true, 0.7, 1),
      "ber",
    );
    assert.equal(
      pickRegion(levels, "fr", () => true),
      "par",
    );
    assert.equal(
      pickRegion(levels, undefined, () => true),
      "central",
    );
    assert.equal(
      pickRegion(levels, "jp", () => true),
      "central",
    );
  });

  it("spills to central when the edge level's healthy share drops below the threshold", () => {
    assert.equal(
      pickRegion(levels, "de", (r) => r !== "fra", 0.5),
      "ber",
    );
    assert.equal(
      pickRegion(levels, "de", (r) => r !== "fra", 0.7),
      "central",
    );
    assert.equal(
      pickRegion(levels, "de", (r) => r !== "central" && r !== "fra", 0.7),
      "ber",
      "with central down, a partly healthy edge still serves",
    );
    assert.equal(
      pickRegion(levels, "de", () => false),
      undefined,
    );
  });
});

describe("backend health", () => {
  it("ejects after consecutive failures, backs off longer each time, and readmits on a good probe", () => {
    let now = 0;
    const health = new BackendHealth(3, 1_000, () => now);
    health.failed();
    health.failed();
    assert.equal(health.healthy, true);
    health.failed();
    assert.equal(health.healthy, false);
    now = 1_000;
    assert.equal(health.healthy, true);
    health.eject();
    now = 2_500;
    assert.equal(health.healthy, false, "the second ejection lasts twice as long");
    health.probed(true);
    assert.equal(health.healthy, true);
  });
});

describe("version weights", () => {
  it("is sticky per request id when asked, and weighted otherwise", () => {
    const sticky = compileSplit({ "1": 50, "2": 50 }, true);
    const first = pickVersion(sticky, "req-123");
    for (let i = 0; i < 10; i++) assert.equal(pickVersion(sticky, "req-123"), first);
    const random = compileSplit({ "1": 90, "2": 10 }, false);
    assert.equal(
      pickVersion(random, "x", () => 0.89),
      "1",
    );
    assert.equal(
      pickVersion(random, "x", () => 0.9),
      "2",
    );
    assert.equal(
      pickVersion(compileSplit({ "1": 0, "2": 100 }, false), "x", () => 0),
      "2",
    );
  });
});
