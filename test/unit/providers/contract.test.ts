import assert from "node:assert/strict";
import { STEP_ORDER, type ProviderSteps } from "../../../providers/provider";
import { factoryFor, TargetConfigError } from "../../../providers/registry";
import { planUnderMocks, UnmockedCallError } from "../../../providers/plan";
import { kubernetesSteps } from "../../../providers/kubernetes/steps";
import { awsSteps } from "../../../providers/aws/steps";
import { alicloudSteps } from "../../../providers/alicloud/steps";
import * as pulumi from "@pulumi/pulumi";

const noop = () => {};

describe("provider contract", () => {
  it("requires one step per spec section and one for alerts (a missing one does not compile)", () => {
    // @ts-expect-error: the gateway step (for routes) is missing
    const incomplete: ProviderSteps<unknown> = {
      regions: noop,
      gpuPools: noop,
      scalingPolicies: noop,
      models: noop,
      functions: noop,
      alerts: noop,
    };
    assert.ok(incomplete);
    const sections = { regions: noop, gpuPools: noop, scalingPolicies: noop, models: noop, functions: noop, gateway: noop };
    // @ts-expect-error: the alerts step (for objectives) is missing
    const unalerted: ProviderSteps<unknown> = sections;
    assert.ok(unalerted);
    assert.equal(STEP_ORDER[STEP_ORDER.length - 1], "alerts", "alerts come last: they watch what every other step made");
    // @ts-expect-error: the queues step (asynchronous entries) is missing
    const withoutQueues: ProviderSteps<unknown> = sections;
    assert.ok(withoutQueues);
    for (const steps of [kubernetesSteps, awsSteps, alicloudSteps]) assert.deepEqual(Object.keys(steps).sort(), [...STEP_ORDER].sort());
  });

  it("names the available targets when the stack asks for an unknown one", () => {
    assert.throws(
      () => factoryFor("gcp"),
      (e: TargetConfigError) => e.code === "CL_TARGET_CONFIG" && /available targets: kubernetes, aws, alicloud/.test(e.message),
    );
  });

  it("fails the offline plan loudly on any provider call it cannot answer", async () => {
    await assert.rejects(
      planUnderMocks(() => pulumi.runtime.invoke("kubernetes:helm:template", {})),
      (e: Error) => e instanceof UnmockedCallError && /provider call kubernetes:helm:template/.test(e.message),
    );
  });
});
