import assert from "node:assert/strict";
import { gatewayMetricsToken } from "../../../policy/policies/gateway-metrics-token";
import { labelsOf, type PlannedPolicyResource } from "../../../policy/resources";
import { evaluatePolicies, toPolicyResources } from "../../../policy/runner";
import { planApp, stackConfig } from "../../../cli/plan";
import example from "../../../examples/support-desk/app";

const r = (type: string, name: string, props: Record<string, any>): PlannedPolicyResource => ({
  type,
  name,
  urn: `${type}::${name}`,
  props,
});
const SECRET = "4dabf18193072939515e22adb298388d";
const gatewayLabels = { "cloudloom.dev/app": "a", "cloudloom.dev/kind": "gateway", "cloudloom.dev/name": "gateway" };
const deployment = (env: object[], labels: Record<string, string> = gatewayLabels) =>
  r("kubernetes:apps/v1:Deployment", "a-gateway", {
    metadata: { labels },
    spec: { template: { spec: { containers: [{ name: "gateway", env }] } } },
  });
const task = (container: object) =>
  r("aws:ecs/taskDefinition:TaskDefinition", "a-central-gateway", {
    tags: { ...gatewayLabels, "cloudloom.dev/name": "central" },
    containerDefinitions: JSON.stringify([container]),
  });
const fc = (environment: Record<string, string>) =>
  r("alicloud:fc/v3Function:V3Function", "a-gateway-central", {
    tags: { ...gatewayLabels, "cloudloom.dev/name": "central" },
    environmentVariables: { [SECRET]: "1b47061264138c4ac30d75fd1eb44270", value: environment },
  });
const messages = async (resources: PlannedPolicyResource[]) =>
  (await evaluatePolicies(resources, {}, [gatewayMetricsToken])).map((v) => v.message);

describe("policy cloudloom-gateway-metrics-token", () => {
  it("passes gateways that take the token from a Secret, Secrets Manager or KMS", async () => {
    assert.deepEqual(
      await messages([
        deployment([{ name: "CLOUDLOOM_METRICS_TOKEN", valueFrom: { secretKeyRef: { name: "a-metrics-token", key: "token" } } }]),
        task({ environment: [{ name: "LOG_FORMAT", value: "json" }], secrets: [{ name: "CLOUDLOOM_METRICS_TOKEN", valueFrom: "arn:x" }] }),
        fc({ CLOUDLOOM_KMS_SECRETS: JSON.stringify({ CLOUDLOOM_METRICS_TOKEN: "a-central-metrics-token" }) }),
        // Not a gateway: a function's Deployment needs no metrics token.
        deployment([], { ...gatewayLabels, "cloudloom.dev/kind": "function" }),
      ]),
      [],
    );
  });

  it("fails a gateway without the token, on each target", async () => {
    assert.deepEqual(await messages([deployment([]), task({ environment: [], secrets: [] }), fc({ CLOUDLOOM_REGION: "central" })]), [
      "gateway a-gateway sets no CLOUDLOOM_METRICS_TOKEN; give it from the metrics token's Secret (valueFrom.secretKeyRef)",
      "gateway a-central-gateway sets no CLOUDLOOM_METRICS_TOKEN; take it from a Secrets Manager secret through the container's secrets (valueFrom)",
      "gateway a-gateway-central names no KMS secret for CLOUDLOOM_METRICS_TOKEN in CLOUDLOOM_KMS_SECRETS; its public trigger would serve its metrics to the admin key alone",
    ]);
  });

  it("fails a gateway that sets the token as a literal, on each target", async () => {
    assert.deepEqual(
      await messages([
        deployment([{ name: "CLOUDLOOM_METRICS_TOKEN", value: "m".repeat(24) }]),
        task({ environment: [{ name: "CLOUDLOOM_METRICS_TOKEN", value: "m".repeat(24) }], secrets: [] }),
        fc({ CLOUDLOOM_METRICS_TOKEN: "m".repeat(24) }),
      ]),
      [
        "gateway a-gateway sets CLOUDLOOM_METRICS_TOKEN as a literal; take it from the metrics token's Secret (valueFrom.secretKeyRef)",
        "gateway a-central-gateway sets CLOUDLOOM_METRICS_TOKEN in its plain environment; take it from a Secrets Manager secret through the container's secrets (valueFrom)",
        "gateway a-gateway-central sets CLOUDLOOM_METRICS_TOKEN in its environment; name its KMS secret in CLOUDLOOM_KMS_SECRETS instead",
      ],
    );
  });

  it("passes the example's plan on every target: each provider gives its gateways the token from its secret store", async function () {
    this.timeout(180_000);
    for (const target of ["kubernetes", "aws", "alicloud"] as const) {
      const plan = await planApp(example.root, target, stackConfig(target));
      const gateways = plan.resources.filter(
        (p) =>
          ["kubernetes:apps/v1:Deployment", "aws:ecs/taskDefinition:TaskDefinition", "alicloud:fc/v3Function:V3Function"].includes(
            p.type,
          ) && /gateway/.test(p.name),
      );
      assert.ok(
        toPolicyResources(gateways).some((g) => labelsOf(g)["cloudloom.dev/kind"] === "gateway"),
        `${target} plans a gateway the policy checks`,
      );
      assert.deepEqual(await messages(toPolicyResources(plan.resources)), [], target);
    }
  });
});
