/**
 * The gateways' metrics token on AWS (the example under mocks, awaited real
 * inputs): every region's gateway reads it from a Secrets Manager secret of its
 * own region (ECS `secrets`, never its environment), the EKS cluster's KEDA
 * presents the same token to every gateway's /metrics/demand, and a token the
 * gateway would refuse stops the program.
 */
import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import example from "../../../../examples/support-desk/app";
import { AwsApp } from "../../../../providers/aws/app";

const TOKEN = "m".repeat(24);
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";
/** A Pulumi secret's value as the plan records it, else the value. */
const revealed = (value: any) => (value && typeof value === "object" && SECRET_SIGNATURE in value ? value.value : value);
const inputs = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};

describe("AWS: the gateways' metrics token (the example under mocks)", function () {
  this.timeout(180_000);
  let plan: Plan;

  before(async () => {
    plan = await planApp("examples/support-desk", "aws", { ...stackConfig("aws"), metricsToken: TOKEN });
  });

  it("gives each region's gateway cloudloom:metricsToken through a secret of its own region, never its environment", () => {
    const gateways = plan.resources.filter((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition").map((r) => r.name);
    assert.ok(gateways.length >= 1, "the example has a gateway");
    for (const name of gateways) {
      const version = inputs(plan, "aws:secretsmanager/secretVersion:SecretVersion", `${name}-metrics-token`);
      assert.ok(SECRET_SIGNATURE in version.secretString, "kept a Pulumi secret");
      assert.equal(revealed(version.secretString), TOKEN);
      const task = inputs(plan, "aws:ecs/taskDefinition:TaskDefinition", name);
      const [container] = JSON.parse(revealed(task.containerDefinitions));
      const fromSecret = container.secrets.filter((s: { name: string }) => s.name === "CLOUDLOOM_METRICS_TOKEN");
      assert.equal(fromSecret.length, 1);
      assert.match(fromSecret[0].valueFrom, new RegExp(`:${name}-metrics-token$`));
      assert.ok(!container.environment.some((e: { name: string }) => e.name === "CLOUDLOOM_METRICS_TOKEN"));
      assert.ok(!JSON.stringify(task).includes(TOKEN), `${name}'s task definition carries no token value`);
    }
  });

  it("keeps the same token in the EKS cluster, whose KEDA presents it to every gateway's demand", () => {
    const secret = inputs(plan, "kubernetes:core/v1:Secret", "support-desk-central-metrics-token");
    assert.equal(revealed(secret.stringData).token, TOKEN);
    const authentication = inputs(plan, "kubernetes:keda.sh/v1alpha1:TriggerAuthentication", "support-desk-central-metrics-token");
    assert.deepEqual(authentication.spec, {
      secretTargetRef: [{ parameter: "token", name: "support-desk-central-metrics-token", key: "token" }],
    });
    const scaled = inputs(plan, "kubernetes:keda.sh/v1alpha1:ScaledObject", "support-desk-central-intent-v1-central");
    const triggers = scaled.spec.triggers.filter((t: { type: string }) => t.type === "metrics-api");
    assert.ok(triggers.length >= 1);
    for (const trigger of triggers) {
      assert.equal(trigger.metadata.authMode, "bearer");
      assert.deepEqual(trigger.authenticationRef, { name: "support-desk-central-metrics-token" });
    }
  });

  it("plans with a fixed placeholder when the stack sets none, so plans compare equal", async () => {
    const offline = await planApp("examples/support-desk", "aws", stackConfig("aws"));
    assert.ok(offline.placeholders.includes("metricsToken"));
    const [task] = offline.resources.filter(
      (r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && r.name.endsWith("-gateway-metrics-token"),
    );
    assert.equal(revealed((task.inputs as any).secretString), "offline-placeholder-metrics-token");
  });

  it("refuses a configured token the gateway would refuse before creating anything, naming the setting and its fix", () => {
    const spec = example.toSpec({ target: "aws" });
    assert.throws(
      () =>
        new AwsApp("short", {
          spec,
          root: example.root,
          networks: {},
          sagemakerImage: "img",
          gateway: { metricsToken: "short" },
        }),
      /stack config cloudloom:metricsToken must be at least 16 characters; set it with: pulumi config set --secret cloudloom:metricsToken/,
    );
  });
});
