/** Which onnxruntime execution providers a model's sessions use, and the fallback to the CPU on real onnxruntime. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import example from "../../../examples/support-desk/app";
import { EXECUTION_PROVIDERS_ENV } from "../../../runtime/contract";
import { chooseExecutionProviders, SessionFactory } from "../../../runtime/execution-provider";
import { ModelHost } from "../../../runtime/model-host";

const spec = example.toSpec({ target: "kubernetes" });
const intent = spec.models["intent@1"];
const artifact = readFileSync(join(example.root, intent.artifact.path));
/** Whether this machine's onnxruntime can run CUDA (the CPU-only binaries here cannot). */
const cudaInstalled = ort.listSupportedBackends().some((b) => b.name === "cuda" && b.bundled);

describe("execution providers", () => {
  describe("the choice per environment", () => {
    it("a model on a GPU pool (Kubernetes, EKS, ACK, FC GPU: the spec names its pool) tries CUDA, then the CPU", () => {
      assert.equal(intent.pool, "inference-t4");
      assert.deepEqual(chooseExecutionProviders(intent, {}), ["cuda", "cpu"]);
    });

    it("a model without a pool runs on the CPU", () => {
      assert.deepEqual(chooseExecutionProviders({ pool: undefined }, {}), ["cpu"]);
    });

    it(`${EXECUTION_PROVIDERS_ENV} overrides the choice either way`, () => {
      assert.deepEqual(chooseExecutionProviders(intent, { [EXECUTION_PROVIDERS_ENV]: "cpu" }), ["cpu"]);
      assert.deepEqual(chooseExecutionProviders({}, { [EXECUTION_PROVIDERS_ENV]: " CUDA , cpu,cuda" }), ["cuda", "cpu"]);
      assert.deepEqual(chooseExecutionProviders({}, { [EXECUTION_PROVIDERS_ENV]: "" }), ["cpu"]);
    });

    it("refuses a provider it does not know, naming the variable", () => {
      assert.throws(
        () => chooseExecutionProviders(intent, { [EXECUTION_PROVIDERS_ENV]: "cuda,rocm" }),
        /CLOUDLOOM_EXECUTION_PROVIDERS=cuda,rocm: .*rocm/,
      );
    });
  });

  describe("falling back to the CPU on real onnxruntime", () => {
    before(function () {
      // .npmrc installs onnxruntime without its CUDA binaries, so CUDA cannot load here and the fallback is real.
      assert.equal(cudaInstalled, false, "onnxruntime-node was installed with CUDA binaries; .npmrc should skip them");
    });

    it("creates the example model's session on the CPU after CUDA fails, with one warning, and stays there", async () => {
      const warnings: string[] = [];
      const factory = new SessionFactory(["cuda", "cpu"], (m) => warnings.push(m), "model intent@1");
      const sessions = await Promise.all([factory.session(artifact), factory.session(artifact), factory.session(artifact)]);
      sessions.push(await factory.session(artifact));
      assert.deepEqual(factory.providers, ["cpu"]);
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /^model intent@1: execution providers cuda,cpu are not usable here \(.*Cuda.*\); running on the CPU$/);
      const out = await sessions[0].run({ features: new ort.Tensor("float32", new Float32Array(512), [1, 512]) });
      assert.equal(out.probabilities.dims[1], 5);
      await Promise.all(sessions.map((s) => s.release()));
    });

    it("a ModelHost on the GPU pool serves real predictions on the CPU and says so once", async () => {
      const warnings: string[] = [];
      const host = new ModelHost(
        intent,
        artifact,
        { min: 2, max: 2, idleWindowMs: 60_000, memoryMb: 1 },
        { maxBatchSize: 4, maxDelayMs: 1, maxQueue: 16 },
        { warn: (m) => warnings.push(m) },
        chooseExecutionProviders(intent, {}),
      );
      try {
        await host.warm();
        const prediction = await host.predict({ features: new Float32Array(512).fill(0.1) });
        assert.equal(prediction.outputs.probabilities.length, 5);
        assert.deepEqual(host.executionProviders, ["cpu"]);
        assert.equal(warnings.length, 1);
      } finally {
        await host.close();
      }
    });

    it("does not fall back when the CPU fails too: the artifact's error is the one thrown", async () => {
      const warnings: string[] = [];
      const factory = new SessionFactory(["cuda", "cpu"], (m) => warnings.push(m));
      await assert.rejects(factory.session(new Uint8Array([1, 2, 3])));
      assert.deepEqual(warnings, []);
      assert.deepEqual(factory.providers, ["cuda", "cpu"]);
    });

    it("the CPU alone is tried once, with no warning", async () => {
      const warnings: string[] = [];
      const factory = new SessionFactory(["cpu"], (m) => warnings.push(m));
      await (await factory.session(artifact)).release();
      assert.deepEqual(warnings, []);
    });
  });
});
