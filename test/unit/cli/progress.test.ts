import assert from "node:assert/strict";
import { countedProgress } from "../../../cli/progress";

describe("progress of long steps", () => {
  it("reports the count and the latest item as they register, at most once per interval, then the total", async () => {
    let err = "";
    const io = { out: () => undefined, err: (text: string) => void (err += text) };
    let clock = 0;
    const result = await countedProgress(
      io,
      "planning app on kubernetes",
      "resources",
      async (counter) => {
        for (let i = 1; i <= 25; i++) {
          clock += 100; // each resource registers 100 ms after the last
          counter.tick(`kubernetes:apps/v1:Deployment::d${i}`);
        }
        return "plan";
      },
      { everyMs: 1_000, now: () => clock },
    );
    assert.equal(result, "plan");
    assert.deepEqual(err.trim().split("\n"), [
      "planning app on kubernetes...",
      "  planning app on kubernetes: 10 resources so far (1.0 s; latest kubernetes:apps/v1:Deployment::d10)",
      "  planning app on kubernetes: 20 resources so far (2.0 s; latest kubernetes:apps/v1:Deployment::d20)",
      "planning app on kubernetes: 25 resources, done in 2.5 s",
    ]);
  });

  it("says only what it does and the total for a quick step", async () => {
    let err = "";
    const io = { out: () => undefined, err: (text: string) => void (err += text) };
    await countedProgress(io, "planning", "resources", async (counter) => counter.tick("a"), { now: () => 0 });
    assert.equal(err, "planning...\nplanning: 1 resources, done in 0.0 s\n");
  });
});
