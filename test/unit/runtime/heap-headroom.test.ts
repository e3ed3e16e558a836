import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { keepHeapHeadroom, SERVER_HEAP_GROWING_PERCENT } from "../../../runtime/heap-headroom";

describe("keepHeapHeadroom", () => {
  it("sets V8's heap growing factor to the server's percent", () => {
    const set: string[] = [];
    assert.equal(keepHeapHeadroom({ execArgv: ["--import", "tsx"], setFlags: (flags) => set.push(flags) }), SERVER_HEAP_GROWING_PERCENT);
    assert.deepEqual(set, [`--heap-growing-percent=${SERVER_HEAP_GROWING_PERCENT}`]);
  });

  it("leaves a factor the operator started node with alone, in either spelling", () => {
    for (const flag of ["--heap-growing-percent=50", "--heap_growing_percent=50"]) {
      const set: string[] = [];
      assert.equal(keepHeapHeadroom({ execArgv: [flag], setFlags: (flags) => set.push(flags) }), undefined);
      assert.deepEqual(set, []);
    }
  });

  it("is the factor V8 then sizes the old generation by, where it would have picked its own", () => {
    const limits = (setup: string) => {
      const script = `${setup}
        let kept = [];
        for (let round = 0; round < 200; round++) { kept.push(new Array(10000).fill(round)); if (kept.length > 20) kept = []; }
        global.gc();`;
      const child = spawnSync(process.execPath, ["--expose-gc", "--trace-gc-verbose", "-e", script], { encoding: "utf8", timeout: 60_000 });
      assert.equal(child.status, 0, child.stderr);
      return [...child.stdout.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)$/gm)].map(([, factor]) => Number(factor));
    };
    const module = JSON.stringify(require.resolve("../../../runtime/heap-headroom"));
    const tuned = limits(`require("tsx/cjs/api").register(); require(${module}).keepHeapHeadroom();`);
    assert.ok(tuned.length > 0, "V8 printed no heap limit");
    assert.deepEqual(new Set(tuned), new Set([1 + SERVER_HEAP_GROWING_PERCENT / 100]));
    assert.ok(
      limits("").some((factor) => factor !== 1 + SERVER_HEAP_GROWING_PERCENT / 100),
      "V8's own factor is the same; the test shows nothing",
    );
  });
});
