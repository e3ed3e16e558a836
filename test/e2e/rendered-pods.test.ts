/**
 * The pods `cloudloom plan --target kubernetes --out` renders, run as local
 * processes (test/support/rendered-pods.ts): every Deployment and
 * StatefulSet started with its own command, arguments and environment (its
 * Secrets and ConfigMaps from the same output), every readiness probe
 * passing against the pod's own IP, a request through the gateway pod
 * reaching the function pod and the model pod for a real prediction, and an
 * asynchronous one queued in the Redis pod and worked by its function's pod.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import example from "../../examples/support-desk/app";
import { INTENTS } from "../../examples/support-desk/model/dataset";
import { API_KEYS_VARIABLE, renderManifests, RenderedPods, type Manifest } from "../support/rendered-pods";

describe("rendered Kubernetes pods, run locally", function () {
  this.timeout(150_000);
  const apiKey = `test-${randomBytes(8).toString("hex")}`;
  // The gateway's /metrics and /metrics/demand take the metrics token (16+ characters), which it reads from its Secret.
  const metricsToken = randomBytes(12).toString("hex");
  const out = mkdtempSync(join(tmpdir(), "cloudloom-plan-out-"));
  let manifests: Manifest[];
  let pods: RenderedPods;
  let problems: string[];

  before(async function () {
    // Twelve pods start at once on two cores (each a Node process loading the runtime): give a loaded machine time.
    this.timeout(300_000);
    manifests = renderManifests("examples/support-desk", out);
    const spec = example.toSpec({ target: "kubernetes" });
    const artifacts = Object.fromEntries(
      Object.values(spec.models).map((m) => [`/${m.name}/${m.version}/model.onnx`, join(example.root, m.artifact.path)]),
    );
    // The gateway takes function pods' demand reports only with a token of 16+ characters: both read this one.
    const demandToken = randomBytes(12).toString("hex");
    pods = new RenderedPods(manifests, {
      appDir: example.root,
      artifacts,
      secretValues: { [API_KEYS_VARIABLE]: apiKey, CLOUDLOOM_DEMAND_TOKEN: demandToken, CLOUDLOOM_METRICS_TOKEN: metricsToken },
    });
    await pods.start();
    problems = await pods.waitReady(180_000);
  });

  after(async () => {
    await pods?.close();
    rmSync(out, { recursive: true, force: true });
  });

  const gateway = () =>
    pods.serviceUrl(manifests.find((m) => m.kind === "Service" && m.metadata.labels?.["cloudloom.dev/kind"] === "gateway")!.metadata.name);

  it("starts a pod for every Deployment and StatefulSet, and every readiness probe passes", () => {
    const workloads = manifests.filter((m) => m.kind === "Deployment" || m.kind === "StatefulSet");
    assert.ok(
      workloads.some((m) => m.metadata.labels?.["cloudloom.dev/kind"] === "gateway"),
      "a gateway",
    );
    assert.ok(
      workloads.some((m) => m.metadata.labels?.["cloudloom.dev/kind"] === "model"),
      "a model",
    );
    assert.ok(
      workloads.some((m) => m.metadata.labels?.["cloudloom.dev/kind"] === "function"),
      "a function",
    );
    assert.equal(pods.pods.length, workloads.length);
    assert.deepEqual(problems, [], `pods not ready:\n${problems.join("\n\n")}`);
  });

  it("serves the gateway pod's /metrics and /metrics/demand only with the metrics token from its Secret", async () => {
    for (const path of ["/metrics", "/metrics/demand"]) {
      const refused = await fetch(`${gateway()}${path}`);
      assert.equal(refused.status, 401, path);
      assert.match(refused.headers.get("www-authenticate") ?? "", /^Bearer /);
      await refused.arrayBuffer();
      const served = await fetch(`${gateway()}${path}`, { headers: { authorization: `Bearer ${metricsToken}` } });
      assert.equal(served.status, 200, path);
      await served.arrayBuffer();
    }
  });

  it("answers POST /v1/classify through the gateway pod with the function pod's classification from the model pod", async function () {
    assert.deepEqual(problems, [], "every pod must be ready first");
    const response = await fetch(`${gateway()}/v1/classify`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ message: "I was charged twice for my pro plan, please refund me asap" }),
    });
    const body = (await response.json()) as { intent: string; confidence: number; modelVersion: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.ok((INTENTS as readonly string[]).includes(body.intent), JSON.stringify(body));
    assert.ok(body.confidence > 0 && body.confidence <= 1);
    assert.equal(body.modelVersion, "1");
  });

  it("answers POST /v1/models/intent through the gateway pod from the model pod", async function () {
    assert.deepEqual(problems, [], "every pod must be ready first");
    const response = await fetch(`${gateway()}/v1/models/intent`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ inputs: { features: new Array(512).fill(0.05) } }),
    });
    const body = (await response.json()) as { outputs: { probabilities: number[] } };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.outputs.probabilities.length, INTENTS.length);
    assert.ok(Math.abs(body.outputs.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3);
  });

  it("queues POST /v1/tickets/reclassify through the gateway pod in the Redis pod, and the function's own pod works the job", async function () {
    assert.deepEqual(problems, [], "every pod must be ready first");
    const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
    const tickets = [
      { id: "T-1", message: "I was charged twice for my pro plan, please refund me asap" },
      { id: "T-2", message: "The dashboard shows error 500 since this morning" },
    ];
    const submitted = await fetch(`${gateway()}/v1/tickets/reclassify`, { method: "POST", headers, body: JSON.stringify({ tickets }) });
    const accepted = (await submitted.json()) as { id: string };
    assert.equal(submitted.status, 202, JSON.stringify(accepted));
    let invocation: { state: string; result?: { status: number; body: { reclassified: number } } };
    for (;;) {
      const read = await fetch(`${gateway()}/v1/invocations/${accepted.id}`, { headers });
      invocation = (await read.json()) as typeof invocation;
      assert.equal(read.status, 200, JSON.stringify(invocation));
      if (!["queued", "running"].includes(invocation.state)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(invocation.state, "succeeded", JSON.stringify(invocation));
    assert.deepEqual([invocation.result!.status, invocation.result!.body.reclassified], [200, 2]);
  });

  it("runs a model pod that served on the CPU after saying once that its GPU pool's CUDA is not usable here", function () {
    assert.deepEqual(problems, [], "every pod must be ready first");
    // Scale-to-zero model pods load their first session on their first call: only those that served have one.
    const said = pods.pods
      .filter((p) => p.workload.metadata.labels?.["cloudloom.dev/kind"] === "model")
      .map((pod) => ({ pod, lines: pod.log.split("\n").filter((line) => line.includes("running on the CPU")) }));
    assert.ok(
      said.some(({ lines }) => lines.length === 1),
      said.map(({ pod }) => `${pod.name}:\n${pod.log}`).join("\n"),
    );
    for (const { pod, lines } of said) assert.ok(lines.length <= 1, `${pod.name}:\n${pod.log}`);
  });
});
