import assert from "node:assert/strict";
import type { StackValidationPolicy } from "@pulumi/policy";
import { planApp, stackConfig } from "../../../cli/plan";
import { awsAccessLogs } from "../../../policy/policies/aws-access-logs";
import { awsFloorsEnd } from "../../../policy/policies/aws-floors-end";
import { awsPrivateClusterEndpoint } from "../../../policy/policies/aws-private-cluster";
import { awsSupportedRuntimes } from "../../../policy/policies/aws-supported-runtimes";
import type { PlannedPolicyResource } from "../../../policy/resources";
import { evaluatePolicies, toPolicyResources } from "../../../policy/runner";

const r = (type: string, name: string, props: Record<string, any>): PlannedPolicyResource => ({
  type,
  name,
  urn: `${type}::${name}`,
  props,
});

async function messages(policy: StackValidationPolicy, resources: PlannedPolicyResource[]): Promise<string[]> {
  return (await evaluatePolicies(resources, {}, [policy])).map((v) => v.message);
}

const OPERATOR_POLICIES = [awsFloorsEnd, awsSupportedRuntimes, awsAccessLogs, awsPrivateClusterEndpoint];

describe("AWS operator policies, each with a passing and a failing resource", () => {
  describe("floors that end", () => {
    const scaling = {
      serviceNamespace: "lambda",
      scalableDimension: "lambda:function:ProvisionedConcurrency",
      resourceId: "function:f:live",
    };
    const target = r("aws:appautoscaling/target:Target", "f-scaling", { ...scaling, minCapacity: 1, maxCapacity: 20 });
    const action = (name: string, schedule: string, minCapacity: number) =>
      r("aws:appautoscaling/scheduledAction:ScheduledAction", name, {
        ...scaling,
        schedule,
        scalableTargetAction: { minCapacity, maxCapacity: 20 },
      });
    const start = action("f-floor-0", "cron(0 8 ? * 2-6 *)", 4);

    it("passes a floor with its end restoring the target's minimum", async () => {
      assert.deepEqual(await messages(awsFloorsEnd, [target, start, action("f-floor-0-end", "cron(0 9 ? * 2-6 *)", 1)]), []);
    });

    it("refuses a floor that never ends, or whose end does not restore the minimum", async () => {
      const expected = [
        "scheduled action f-floor-0 raises the minimum capacity of function:f:live to 4 (cron(0 8 ? * 2-6 *)) and nothing sets it back to 1; add a scheduled action at the floor's end with minCapacity 1",
      ];
      assert.deepEqual(await messages(awsFloorsEnd, [target, start]), expected);
      assert.deepEqual(
        await messages(awsFloorsEnd, [target, start, action("f-floor-0-end", "cron(0 9 ? * 2-6 *)", 2)]).then((m) => m.slice(0, 1)),
        expected,
      );
    });
  });

  describe("supported runtimes", () => {
    const fn = (runtime: string) => r("aws:lambda/function:Function", "fn", { runtime, handler: "index.handler" });
    const layer = (compatibleRuntimes: string[]) => r("aws:lambda/layerVersion:LayerVersion", "layer", { compatibleRuntimes });

    it("passes functions and layers on nodejs24.x or nodejs22.x, and image functions", async () => {
      assert.deepEqual(
        await messages(awsSupportedRuntimes, [
          fn("nodejs24.x"),
          layer(["nodejs22.x", "nodejs24.x"]),
          r("aws:lambda/function:Function", "img", { packageType: "Image" }),
        ]),
        [],
      );
    });

    it("refuses a function or layer on nodejs20.x", async () => {
      assert.deepEqual(await messages(awsSupportedRuntimes, [fn("nodejs20.x"), layer(["nodejs20.x", "nodejs24.x"])]), [
        "Lambda function fn runs on nodejs20.x, which Lambda no longer supports; use nodejs24.x (supported: nodejs22.x, nodejs24.x; AWS Lambda runtime deprecation policy)",
        "Lambda layer layer is compatible with nodejs20.x, which Lambda no longer supports; use nodejs24.x (supported: nodejs22.x, nodejs24.x; AWS Lambda runtime deprecation policy)",
      ]);
    });
  });

  describe("access logs", () => {
    const artifacts = r("aws:s3/bucket:Bucket", "artifacts", { bucketPrefix: "app-models-" });
    const logs = r("aws:s3/bucket:Bucket", "logs", { bucketPrefix: "app-logs-" });
    const logging = r("aws:s3/bucketLogging:BucketLogging", "artifacts-logging", {
      bucket: "artifacts-id",
      targetBucket: "app-logs-offline",
      targetPrefix: "s3/artifacts/",
    });
    const lb = (accessLogs?: object) => r("aws:lb/loadBalancer:LoadBalancer", "lb", { loadBalancerType: "application", accessLogs });
    const stage = (accessLogSettings?: object) => r("aws:apigatewayv2/stage:Stage", "stage", { name: "$default", accessLogSettings });

    it("passes a logged bucket (its log bucket exempt), a logging load balancer and a logging stage", async () => {
      assert.deepEqual(
        await messages(awsAccessLogs, [
          artifacts,
          logs,
          logging,
          lb({ bucket: "app-logs-offline", prefix: "alb/lb", enabled: true }),
          stage({ destinationArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/api", format: "{}" }),
        ]),
        [],
      );
    });

    it("refuses a bucket without server access logs, and a load balancer or stage without access logs", async () => {
      assert.deepEqual(await messages(awsAccessLogs, [artifacts, lb({ bucket: "b", enabled: false }), stage()]), [
        "S3 bucket artifacts has no server access logging; add a BucketLogging to the region's log bucket (not to itself)",
        "load balancer lb writes no access logs; set accessLogs { bucket, prefix, enabled: true }",
        "API Gateway stage stage writes no access logs; set accessLogSettings { destinationArn: a log group, format }",
      ]);
    });
  });

  describe("private cluster endpoints", () => {
    const cluster = (vpcConfig: object) => r("aws:eks/cluster:Cluster", "c", { vpcConfig });

    it("passes a private endpoint, with public access off or limited to named CIDRs", async () => {
      assert.deepEqual(
        await messages(awsPrivateClusterEndpoint, [cluster({ endpointPrivateAccess: true, endpointPublicAccess: false })]),
        [],
      );
      assert.deepEqual(
        await messages(awsPrivateClusterEndpoint, [
          cluster({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }),
        ]),
        [],
      );
    });

    it("refuses an API public to the whole internet, and one without private access", async () => {
      assert.deepEqual(await messages(awsPrivateClusterEndpoint, [cluster({ endpointPrivateAccess: true, endpointPublicAccess: true })]), [
        "EKS cluster c serves its API to the whole internet; set vpcConfig.endpointPublicAccess: false, or publicAccessCidrs from cloudloom:clusterApiCidrs",
      ]);
      assert.deepEqual(
        await messages(awsPrivateClusterEndpoint, [
          cluster({ endpointPrivateAccess: false, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }),
        ]),
        [
          "EKS cluster c has no private API endpoint; set vpcConfig.endpointPrivateAccess: true",
          "EKS cluster c serves its API to the whole internet; set vpcConfig.endpointPublicAccess: false, or publicAccessCidrs from cloudloom:clusterApiCidrs",
        ],
      );
    });
  });

  it("the example on aws passes all four, on resources of each kind", async () => {
    const plan = await planApp("examples/support-desk", "aws", stackConfig("aws"));
    const resources = toPolicyResources(plan.resources);
    const count = (type: string) => resources.filter((x) => x.type === type).length;
    assert.deepEqual(
      [
        count("aws:appautoscaling/scheduledAction:ScheduledAction"),
        count("aws:lambda/function:Function") + count("aws:lambda/layerVersion:LayerVersion"),
        count("aws:s3/bucket:Bucket") + count("aws:lb/loadBalancer:LoadBalancer") + count("aws:apigatewayv2/stage:Stage"),
        count("aws:eks/cluster:Cluster"),
      ],
      // The Berlin edge is a Wavelength Zone: no Lambda, load balancers or API stages there; two functions centrally (classify, reclassify).
      [2, 3, 7, 2],
    );
    assert.deepEqual(await evaluatePolicies(resources, {}, OPERATOR_POLICIES), []);
  });
});
