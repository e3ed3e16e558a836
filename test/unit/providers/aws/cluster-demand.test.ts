/**
 * EKS models wake from zero on the demand of the gateways outside their
 * cluster (providers/aws/gateway.ts demandGateways): the example on AWS under
 * mocks, with and without certificates, asserting on the ScaledObject's inputs.
 */
import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import example from "../../../../examples/support-desk/app";
import { gatewayRegions } from "../../../../providers/aws/networks";

const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const INTENT_CENTRAL = "support-desk-central-intent-v1-central";
const QUERY = "/metrics/demand?kind=model&entry=intent%401&region=central";

/** The ScaledObject spec of the EKS workload `name`. */
function scaled(
  plan: Plan,
  name: string,
): { pollingInterval?: number; triggers: Array<{ type: string; metadata: Record<string, string> }> } {
  const found = plan.resources.filter((r) => r.type === SCALED_OBJECT && r.name === name);
  assert.equal(found.length, 1, `one ScaledObject ${name}`);
  return (found[0].inputs as { spec: never }).spec;
}
const demandTriggers = (plan: Plan) => scaled(plan, INTENT_CENTRAL).triggers.filter((t) => t.type === "metrics-api");

describe("AWS: GPU models on EKS wake from zero on the gateways' held requests (under mocks)", function () {
  this.timeout(180_000);

  it("reads every gateway region's load balancer over HTTP, found once the gateway step placed it", async () => {
    const plan = await planApp("examples/support-desk", "aws", stackConfig("aws"));
    const triggers = demandTriggers(plan);
    assert.equal(triggers.length, gatewayRegions(example.toSpec({ target: "aws" })).length, "one trigger per gateway region");
    assert.ok(triggers.length >= 1);
    for (const trigger of triggers) {
      assert.match(trigger.metadata.url, new RegExp(`^http://[^/]+\\.elb\\.amazonaws\\.com${QUERY.replace(/[?.]/g, "\\$&")}$`));
      assert.deepEqual(
        { ...trigger.metadata, url: undefined },
        { url: undefined, format: "json", valueLocation: "demand", targetValue: "1", activationTargetValue: "0", authMode: "bearer" },
      );
      assert.deepEqual((trigger as { authenticationRef?: object }).authenticationRef, { name: "support-desk-central-metrics-token" });
    }
    assert.equal(scaled(plan, INTENT_CENTRAL).pollingInterval, 3, "a tenth of the default hold's 30 s wait");
  });

  it("reads the gateway's domain over HTTPS when the gateways have certificates (the load balancers' names are not on them)", async () => {
    const plan = await planApp("examples/support-desk", "aws", {
      ...stackConfig("aws"),
      certificateArn: JSON.stringify({
        central: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-00000000c001",
        "edge-berlin": "arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-00000000b001",
      }),
      dnsZoneId: "Z0123456789ABCDEFGHIJ",
      gatewayDomain: "api.example.com",
    });
    assert.deepEqual(
      demandTriggers(plan).map((t) => t.metadata.url),
      [`https://api.example.com${QUERY}`],
    );
  });

  it("adds no demand trigger when the gateways have certificates and no domain to read them at", async () => {
    const plan = await planApp("examples/support-desk", "aws", {
      ...stackConfig("aws"),
      certificateArn: JSON.stringify({
        central: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-00000000c001",
        "edge-berlin": "arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-00000000b001",
      }),
    });
    assert.deepEqual(demandTriggers(plan), []);
    assert.equal(scaled(plan, INTENT_CENTRAL).pollingInterval, undefined);
  });
});
