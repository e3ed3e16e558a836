import assert from "node:assert/strict";
import { Provider } from "@pulumi/aws/provider";
import { App } from "../../../../sdk";
import example from "../../../../examples/support-desk/app";
import { AwsApp } from "../../../../providers/aws/app";
import { AccessLogs } from "../../../../providers/aws/access-logs";
import { ArtifactStore } from "../../../../providers/aws/artifacts";
import { modelsSpec } from "../../../../providers/shared/sub-spec";
import { SageMakerModel } from "../../../../providers/aws/model";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { privateArtifacts } from "../../../../policy/policies/private-artifacts";
import { leastPrivilege } from "../../../../policy/policies/least-privilege";
import { cloudloomLabels } from "../../../../policy/policies/labels";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";

/** The access-log bucket's own resources are asserted apart, by name. */
const ofLogs = (r: PlannedResource) => r.name.startsWith("cpu-app-logs");
const one = (resources: PlannedResource[], type: string): any => {
  const found = resources.filter((r) => r.type === type && !ofLogs(r));
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0].inputs;
};

describe("AWS models: S3 artifacts and SageMaker Serverless", () => {
  const app = new App("cpu-app", { root: example.root });
  const central = app.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
  const policy = app.scalingPolicy("steady", { minInstances: 1, maxInstances: 10, targetConcurrency: 5 });
  const sha256 = example.toDraft().models["intent@1"].artifact.sha256;
  app.model("intent", {
    version: "2",
    memory: "3 GB",
    artifact: { path: "model/intent.onnx", sha256 },
    signature: {
      inputs: { features: { type: "float32", shape: [-1, 512] } },
      outputs: { probabilities: { type: "float32", shape: [-1, 5] } },
    },
    regions: [central],
    scaling: policy,
  });
  const spec = app.toSpec({ target: "aws" });
  let resources: PlannedResource[];
  let url: string;

  before(async () => {
    ({ resources, result: url } = await planUnderMocks(() => {
      const provider = new Provider("eu-west-1", { region: "eu-west-1" });
      const accessLogs = new AccessLogs("cpu-app-logs", { app: "cpu-app", awsRegion: "eu-west-1" }, { provider });
      const store = new ArtifactStore("cpu-app-eu-west-1", "cpu-app", example.root, { provider, accessLogs });
      const artifact = store.put(spec.models["intent@2"], modelsSpec(spec, ["intent@2"], "central", spec.regions.central.placement));
      return new SageMakerModel(
        "cpu-app-intent-v2",
        {
          app: "cpu-app",
          model: spec.models["intent@2"],
          scaling: spec.scalingPolicies.steady,
          artifact,
          image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloudloom-runtime:0.1.0",
        },
        { provider, region: "eu-west-1", specRegion: "central" },
      ).url;
    }));
  });

  it("stores the artifact in a private, encrypted, versioned bucket, pinned by sha256", () => {
    const access = one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    assert.deepEqual(
      [access.blockPublicAcls, access.blockPublicPolicy, access.ignorePublicAcls, access.restrictPublicBuckets],
      [true, true, true, true],
    );
    assert.equal(
      one(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").rules[0]
        .applyServerSideEncryptionByDefault.sseAlgorithm,
      "aws:kms",
    );
    assert.equal(one(resources, "aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration.status, "Enabled");
    const logging = one(resources, "aws:s3/bucketLogging:BucketLogging");
    assert.deepEqual(
      [logging.bucket, logging.targetBucket, logging.targetPrefix],
      ["cpu-app-eu-west-1-id", "cpu-app-logs-offline", "s3/artifacts/"],
    );
    const objects = resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2").map((r) => r.inputs as any);
    const object = objects.find((o) => o.key.endsWith("model.onnx"));
    const servingSpec = objects.find((o) => o.key.endsWith("spec.json"));
    assert.equal(object.key, "intent/2/model.onnx");
    assert.equal(object.checksumAlgorithm, "SHA256");
    assert.deepEqual(object.metadata, { sha256 });
    assert.equal(servingSpec.key, "intent/2/spec.json");
    const served = JSON.parse(servingSpec.content);
    assert.deepEqual(Object.keys(served.models), ["intent@2"], "the serving spec holds only this model version");
    assert.deepEqual(served.functions, {});
  });

  it("serves a CPU model on SageMaker Serverless within its limits", () => {
    const variant = one(resources, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").productionVariants[0];
    assert.deepEqual(variant.serverlessConfig, { memorySizeInMb: 3072, maxConcurrency: 50 });
    const container = one(resources, "aws:sagemaker/model:Model").primaryContainer;
    assert.deepEqual(container.modelDataSource.s3DataSources[0], {
      s3Uri: "s3://cpu-app-models-offline/intent/2/",
      s3DataType: "S3Prefix",
      compressionType: "None",
    });
    assert.deepEqual(container.environment, { CLOUDLOOM_SAGEMAKER_MODEL: "intent@2", CLOUDLOOM_REGION: "central" });
    assert.equal(url, "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/cpu-app-intent-v2/invocations");
  });

  it("scales the variant with Application Auto Scaling on invocations per instance", () => {
    const target = one(resources, "aws:appautoscaling/target:Target");
    assert.deepEqual([target.serviceNamespace, target.minCapacity, target.maxCapacity], ["sagemaker", 1, 50]);
    assert.equal(
      one(resources, "aws:appautoscaling/policy:Policy").targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification
        .predefinedMetricType,
      "SageMakerVariantInvocationsPerInstance",
    );
  });

  it("passes the artifact, least-privilege and label policies", async () => {
    assert.deepEqual(await evaluatePolicies(toPolicyResources(resources), {}, [privateArtifacts, leastPrivilege, cloudloomLabels]), []);
    const read = JSON.parse(one(resources, "aws:iam/rolePolicy:RolePolicy").policy);
    assert.deepEqual(read.Statement[0].Action, ["s3:GetObject"]);
    assert.match(read.Statement[0].Resource[0], /^arn:aws:s3:.*\/intent\/2\/\*$/, "only this model version's prefix");
  });
});

describe("AWS app with a CPU model", () => {
  it("refuses to plan without the SageMaker image, naming the setting", async () => {
    const app = new App("cpu-only", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
    app.model("intent", {
      version: "1",
      artifact: example.toSpec().models["intent@1"].artifact,
      signature: example.toSpec().models["intent@1"].signature,
      regions: [central],
    });
    await assert.rejects(
      planUnderMocks(() => new AwsApp("cpu-only", { spec: app.toSpec({ target: "aws" }), root: example.root, networks: {} }).endpoints),
      /cloudloom:sagemakerImage is required: CPU models intent@1 run on SageMaker/,
    );
  });
});
