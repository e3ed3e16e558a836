import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/aws/provider";
import example from "../../../../examples/support-desk/app";
import { AwsFunction, LAMBDA_RUNTIME } from "../../../../providers/aws/function";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { noAnonymousEndpoints } from "../../../../policy/policies/anonymous-endpoints";
import { cloudloomLabels } from "../../../../policy/policies/labels";
import { leastPrivilege } from "../../../../policy/policies/least-privilege";
import { noPlaintextSecrets } from "../../../../policy/policies/no-plaintext-secrets";
import { UNTAGGABLE_TYPES } from "../../../../policy/resources";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";

function find(resources: PlannedResource[], type: string): any {
  const found = resources.filter((r) => r.type === type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
}

describe("AWS function (Lambda)", () => {
  const spec = example.toSpec({ target: "aws" });
  let resources: PlannedResource[];
  let url: string;

  before(async () => {
    ({ resources, result: url } = await planUnderMocks(() => {
      const provider = new Provider("eu-west-1", { region: "eu-west-1" });
      return new AwsFunction(
        "support-desk-classify-central",
        {
          app: "support-desk",
          entry: "classify",
          spec: spec.functions.classify,
          scaling: spec.scalingPolicies.interactive,
          code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler = async () => ({})") }),
          runtimeLayer: "arn:aws:lambda:eu-west-1:123456789012:layer:support-desk-central-runtime:3",
          environment: { LOG_LEVEL: "info" },
          modelAccess: { sagemakerEndpointArns: ["arn:aws:sagemaker:eu-west-1:123456789012:endpoint/intent-v1"], executeApiArns: [] },
        },
        { provider },
      ).url;
    }));
  });

  it("creates a nodejs Lambda sized from the spec, published behind a live alias", () => {
    const fn = find(resources, "aws:lambda/function:Function").inputs;
    assert.equal(LAMBDA_RUNTIME, "nodejs24.x", "the newest nodejs runtime of @pulumi/aws's lambda.Runtime");
    assert.equal(fn.runtime, LAMBDA_RUNTIME);
    assert.equal(fn.memorySize, 512);
    assert.equal(fn.timeout, 10);
    assert.equal(fn.publish, true);
    assert.deepEqual(fn.layers, ["arn:aws:lambda:eu-west-1:123456789012:layer:support-desk-central-runtime:3"]);
    assert.deepEqual(fn.environment, { variables: { LOG_LEVEL: "info" } });
    assert.deepEqual(find(resources, "aws:lambda/alias:Alias").inputs, {
      name: "live",
      functionName: "support-desk-classify-central",
      functionVersion: "1",
    });
  });

  it("reaches the function only through a SigV4-signed Function URL", () => {
    assert.equal(find(resources, "aws:lambda/functionUrl:FunctionUrl").inputs.authorizationType, "AWS_IAM");
    assert.equal(url, "https://support-desk-classify-central-url.lambda-url.eu-west-1.on.aws/");
  });

  it("gives it a least-privilege role and a log group with retention", () => {
    assert.equal(
      JSON.parse(find(resources, "aws:iam/role:Role").inputs.assumeRolePolicy).Statement[0].Principal.Service,
      "lambda.amazonaws.com",
    );
    const policy = JSON.parse(find(resources, "aws:iam/rolePolicy:RolePolicy").inputs.policy);
    assert.deepEqual(policy.Statement, [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: ["arn:aws:cloudwatch:eu-west-1:123456789012:support-desk-classify-central-logs:*"],
      },
      { Effect: "Allow", Action: ["sagemaker:InvokeEndpoint"], Resource: ["arn:aws:sagemaker:eu-west-1:123456789012:endpoint/intent-v1"] },
    ]);
    const logs = find(resources, "aws:cloudwatch/logGroup:LogGroup").inputs;
    assert.equal(logs.name, "/aws/lambda/support-desk-classify-central");
    assert.equal(logs.retentionInDays, 14);
  });

  it("turns the scaling policy into provisioned concurrency, target tracking and AWS cron floors", () => {
    assert.equal(
      find(resources, "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig").inputs.provisionedConcurrentExecutions,
      1,
    );
    const target = find(resources, "aws:appautoscaling/target:Target").inputs;
    assert.deepEqual(
      [target.minCapacity, target.maxCapacity, target.scalableDimension, target.resourceId],
      [1, 20, "lambda:function:ProvisionedConcurrency", "function:support-desk-classify-central:live"],
    );
    const tracking = find(resources, "aws:appautoscaling/policy:Policy").inputs.targetTrackingScalingPolicyConfiguration;
    assert.deepEqual(tracking, {
      targetValue: 0.7,
      predefinedMetricSpecification: { predefinedMetricType: "LambdaProvisionedConcurrencyUtilization" },
    });
    const actions = resources.filter((r) => r.type === "aws:appautoscaling/scheduledAction:ScheduledAction").map((r) => r.inputs as any);
    assert.deepEqual(
      actions.map((a) => [a.name, a.schedule, a.timezone, a.scalableTargetAction, a.resourceId]),
      [
        [
          "support-desk-classify-central-floor-0",
          "cron(0 8 ? * 2-6 *)",
          "Europe/Berlin",
          { minCapacity: 4, maxCapacity: 20 },
          target.resourceId,
        ],
        // The floor lasts its duration (1 hour by default), then the policy's own minimum is back.
        [
          "support-desk-classify-central-floor-0-end",
          "cron(0 9 ? * 2-6 *)",
          "Europe/Berlin",
          { minCapacity: 1, maxCapacity: 20 },
          target.resourceId,
        ],
      ],
    );
  });

  it("passes the tag, least-privilege and no-anonymous policies, and uses the region's explicit provider", async () => {
    const violations = await evaluatePolicies(toPolicyResources(resources), {}, [cloudloomLabels, leastPrivilege, noAnonymousEndpoints]);
    assert.deepEqual(violations, []);
    const tagged = resources.filter((x) => x.custom && x.type.startsWith("aws:") && !UNTAGGABLE_TYPES.has(x.type));
    assert.deepEqual(tagged.map((r) => r.type).sort(), [
      "aws:appautoscaling/target:Target",
      "aws:cloudwatch/logGroup:LogGroup",
      "aws:iam/role:Role",
      "aws:lambda/function:Function",
    ]);
    for (const r of resources.filter((x) => x.custom && x.type.startsWith("aws:")))
      assert.match(r.provider ?? "", /pulumi:providers:aws::eu-west-1::/, `${r.type} does not use the region's provider`);
  });
});

describe("AWS function (Lambda) with declared secrets", () => {
  const spec = example.toSpec({ target: "aws" });
  const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:support-desk-classify-central-secrets";
  let resources: PlannedResource[];

  before(async () => {
    ({ resources } = await planUnderMocks(() => {
      const provider = new Provider("eu-west-1", { region: "eu-west-1" });
      return new AwsFunction(
        "support-desk-classify-central",
        {
          app: "support-desk",
          entry: "classify",
          spec: spec.functions.classify,
          code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler = async () => ({})") }),
          runtimeLayer: "arn:aws:lambda:eu-west-1:123456789012:layer:support-desk-central-runtime:3",
          environment: { LOG_LEVEL: "info" },
          secrets: { CRM_TOKEN: pulumi.secret("s3cr3t-value") },
          modelAccess: { sagemakerEndpointArns: [], executeApiArns: [] },
        },
        { provider },
      ).url;
    }));
  });

  it("keeps the secrets in a Secrets Manager secret of its own, and gives the function only its ARN", () => {
    const fn = find(resources, "aws:lambda/function:Function");
    assert.deepEqual(fn.inputs.environment, { variables: { LOG_LEVEL: "info", CLOUDLOOM_SECRETS_ARN: SECRET_ARN } });
    assert.ok(!JSON.stringify(fn.inputs).includes("s3cr3t-value"));
    const secret = find(resources, "aws:secretsmanager/secret:Secret");
    assert.equal(secret.name, "support-desk-classify-central-secrets");
    assert.equal(secret.inputs.tags["cloudloom.dev/name"], "classify");
    const version = find(resources, "aws:secretsmanager/secretVersion:SecretVersion").inputs;
    assert.equal(version.secretId, `${secret.name}-id`);
    assert.ok("4dabf18193072939515e22adb298388d" in version.secretString, "stored as a Pulumi secret");
    assert.deepEqual(JSON.parse(version.secretString.value), { CRM_TOKEN: "s3cr3t-value" });
  });

  it("lets the function's role read exactly that secret", () => {
    const policy = JSON.parse(find(resources, "aws:iam/rolePolicy:RolePolicy").inputs.policy);
    assert.deepEqual(policy.Statement, [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: ["arn:aws:cloudwatch:eu-west-1:123456789012:support-desk-classify-central-logs:*"],
      },
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET_ARN] },
    ]);
  });

  it("passes the tag, least-privilege and no-plaintext-secrets policies", async () => {
    const app = {
      type: "cloudloom:aws:App",
      name: "support-desk",
      urn: "cloudloom:aws:App::support-desk",
      props: { spec: JSON.stringify(spec) },
    };
    const violations = await evaluatePolicies([app, ...toPolicyResources(resources)], {}, [
      cloudloomLabels,
      leastPrivilege,
      noPlaintextSecrets,
    ]);
    assert.deepEqual(violations, []);
  });

  it("refuses a variable that is both plain and secret", async () => {
    await assert.rejects(
      planUnderMocks(
        () =>
          new AwsFunction(
            "f",
            {
              app: "a",
              entry: "classify",
              spec: spec.functions.classify,
              code: new pulumi.asset.AssetArchive({}),
              runtimeLayer: "arn",
              environment: { CRM_TOKEN: "plain" },
              secrets: { CRM_TOKEN: "secret" },
              modelAccess: { sagemakerEndpointArns: [], executeApiArns: [] },
            },
            { provider: new Provider("p", { region: "eu-west-1" }) },
          ),
      ),
      /CRM_TOKEN is a secret and may not also be a plain environment variable/,
    );
  });
});
