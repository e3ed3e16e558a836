import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../../..");

/** Which heavy packages a fresh process has loaded after `cloudloom <argv>`. */
function loadedBy(argv: string[]): { pulumi: boolean; onnxruntime: boolean } {
  const script = `
    require("tsx/cjs/api").register();
    const quiet = { out() {}, err() {} };
    require("./cli/main.ts").main(${JSON.stringify(argv)}, quiet).then(() => {
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({
        pulumi: loaded.some((path) => path.includes("/node_modules/@pulumi/")),
        onnxruntime: loaded.some((path) => path.includes("/node_modules/onnxruntime-node/")),
      }));
    });`;
  const child = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout);
}

describe("the CLI loads only the command it runs", function () {
  // Each case starts a fresh node process: seconds on a loaded 2-core machine.
  this.timeout(120_000);

  it("serves a pod without loading Pulumi (the runtime image has no providers)", () => {
    assert.deepEqual(loadedBy(["serve", "--help"]), { pulumi: false, onnxruntime: true });
  });

  it("plans without loading onnxruntime", () => {
    assert.equal(loadedBy(["plan", "--help"]).onnxruntime, false);
  });
});
