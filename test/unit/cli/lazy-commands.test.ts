import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../../..");

/** Which heavy packages a fresh process has loaded after `cloudloom <argv>`. */
function loadedBy(argv: string[]): { pulumi: boolean; onnxruntime: boolean; sdk: boolean; code: number } {
  const script = `
    require("tsx/cjs/api").register();
    const quiet = { out() {}, err() {} };
    require("./cli/main.ts").main(${JSON.stringify(argv)}, quiet).then((code) => {
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({
        pulumi: loaded.some((path) => path.includes("/node_modules/@pulumi/")),
        onnxruntime: loaded.some((path) => path.includes("/node_modules/onnxruntime-node/")),
        sdk: loaded.some((path) => path.startsWith(${JSON.stringify(ROOT + "/sdk/")})),
        code,
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
    const loaded = loadedBy(["serve", "--help"]);
    assert.deepEqual({ pulumi: loaded.pulumi, onnxruntime: loaded.onnxruntime }, { pulumi: false, onnxruntime: true });
  });

  it("prints the spec without loading Pulumi or onnxruntime", () => {
    const loaded = loadedBy(["spec", "examples/support-desk"]);
    assert.equal(loaded.code, 0);
    assert.equal(loaded.pulumi, false, "spec loaded @pulumi/*");
    assert.equal(loaded.onnxruntime, false, "spec loaded onnxruntime-node");
  });

  it("answers --help and --version without loading the SDK, Pulumi or onnxruntime", () => {
    for (const argv of [["--help"], ["--version"]])
      assert.deepEqual(loadedBy(argv), { pulumi: false, onnxruntime: false, sdk: false, code: 0 }, argv.join(" "));
  });

  it("plans without loading onnxruntime", () => {
    assert.equal(loadedBy(["plan", "--help"]).onnxruntime, false);
  });

  it("steers a gateway's rollouts without loading Pulumi or onnxruntime", () => {
    const loaded = loadedBy(["rollout", "--help"]);
    assert.deepEqual([loaded.pulumi, loaded.onnxruntime], [false, false]);
  });

  it("scaffolds an app without loading Pulumi or onnxruntime", () => {
    const loaded = loadedBy(["init", "--help"]);
    assert.deepEqual([loaded.pulumi, loaded.onnxruntime], [false, false]);
  });
});
