import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { planApp } from "../../cli/plan";
import { INFLIGHT_METRIC, RUNTIME_ENV } from "../../runtime/contract";
import { PodServer } from "../../runtime/pod/pod-server";
import { App } from "../../sdk";

const gate = globalThis as { cloudloomTestGate?: Promise<void> };

describe("the gauge a pod's autoscaler scales on", function () {
  this.timeout(120_000);

  it("counts the requests a pod is serving, labelled by its deployment, and drops back when they end", async () => {
    // A handler that answers only once the test opens the gate: no timing involved.
    const root = mkdtempSync(join(tmpdir(), "cloudloom-inflight-"));
    writeFileSync(
      join(root, "held.ts"),
      "export const handler = async () => { await (globalThis as any).cloudloomTestGate; return { ok: true }; };\n",
    );
    const app = new App("held", { root });
    const central = app.region("central", { kind: "central", placement: {} });
    app.route("POST /held", { target: app.function("held", { handler: "held.ts", regions: [central] }), auth: "none" });
    let open = () => {};
    gate.cloudloomTestGate = new Promise<void>((resolve) => (open = resolve));
    const pod = new PodServer({
      spec: app.toDraft(),
      root,
      scope: { only: { kind: "function", name: "held" }, region: "central" },
      workload: "held-fn-held-central",
      logger: pino({ level: "silent" }),
    });
    const { port } = await pod.listen(0);
    const base = `http://127.0.0.1:${port}`;
    const gauge = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${INFLIGHT_METRIC}{deployment="held-fn-held-central"}`));
      return line === undefined ? undefined : Number(line.split(" ").pop());
    };
    try {
      const calls = [1, 2].map(() => fetch(`${base}/_cloudloom/functions/held`, { method: "POST", body: "{}" }));
      while ((await gauge()) !== 2) await new Promise((resolve) => setTimeout(resolve, 10));
      open();
      assert.deepEqual(
        (await Promise.all(calls)).map((r) => r.status),
        [200, 200],
      );
      assert.equal(await gauge(), 0);
    } finally {
      delete gate.cloudloomTestGate;
      await pod.close();
    }
  });

  it("tells each Kubernetes pod its deployment, which the KEDA and HPA metric select on", async () => {
    const plan = await planApp("examples/support-desk", "kubernetes");
    const deployments = plan.resources
      .filter((r) => r.type === "kubernetes:apps/v1:Deployment" && (r.inputs as any).metadata?.labels?.["cloudloom.dev/kind"] !== "gateway")
      .map((r) => r.inputs as any);
    assert.equal(deployments.length, 5, "three functions and two models");
    for (const deployment of deployments)
      for (const container of deployment.spec.template.spec.containers)
        assert.deepEqual(
          container.env.find((e: { name: string }) => e.name === RUNTIME_ENV.workload)?.valueFrom,
          { fieldRef: { fieldPath: "metadata.labels['cloudloom.dev/workload']" } },
          `${deployment.metadata.name}/${container.name}`,
        );
    const scaled = plan.resources.filter((r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject").map((r) => r.inputs as any);
    for (const object of scaled) {
      const query = object.spec.triggers.find((t: { type: string }) => t.type === "prometheus")?.metadata.query;
      if (query) assert.equal(query, `sum(${INFLIGHT_METRIC}{deployment="${object.metadata.name}"})`);
    }
  });
});
