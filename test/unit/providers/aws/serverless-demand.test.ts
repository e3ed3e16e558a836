/**
 * Lambda functions' calls to a held GPU model on EKS count in its demand
 * (providers/aws/demand-token.ts): under mocks, each calling function gets
 * its own region's gateway URL and the token among its Secrets Manager
 * secrets, each gateway gets the token from a Secrets Manager secret of its
 * region through the ECS task's `secrets`, and the token is nowhere in plain
 * text.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { planApp, stackConfig } from "../../../../cli/plan";
import example from "../../../../examples/support-desk/app";
import { AwsApp, type AwsAppArgs } from "../../../../providers/aws/app";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { App, type SpecV1 } from "../../../../sdk";
import { plaintextOf } from "../../../support/plaintext";

const ACCOUNT = "123456789012";
const SECRET = "aws:secretsmanager/secret:Secret";
const VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
const LAMBDA = "aws:lambda/function:Function";
const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const network = (n: number) => ({
  vpcId: `vpc-0${n}`,
  subnetIds: [`subnet-0${n}1`, `subnet-0${n}2`],
  publicSubnetIds: [`subnet-0${n}3`, `subnet-0${n}4`],
  cidrBlock: `10.${n}.0.0/16`,
});

/**
 * Two regions with a T4 pool each: model intent@1 in both, at zero (`zero` policy: it holds) unless `holds`
 * is false; `classify` calls it in both, `report` (no model) only in central.
 */
function twoRegions(holds = true): SpecV1 {
  const app = new App("wake", { root: example.root });
  const central = app.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
  const frankfurt = app.region("frankfurt", { kind: "edge", localities: ["de"], placement: { aws: { region: "eu-central-1" } } });
  const t4 = app.gpuPool("t4", { accelerator: "nvidia-t4", minSize: 0, maxSize: 2, capacity: "on-demand", regions: [central, frankfurt] });
  const policy = holds
    ? app.scalingPolicy("zero", { maxInstances: 4, targetConcurrency: 2, scaleToZero: { idleWindow: "10 minutes" } })
    : app.scalingPolicy("warm", { minInstances: 1, maxInstances: 4, targetConcurrency: 2 });
  const draft = example.toDraft().models["intent@1"];
  const intent = app.model("intent", {
    version: "1",
    artifact: draft.artifact,
    signature: draft.signature,
    pool: t4,
    regions: [central, frankfurt],
    scaling: policy,
  });
  const classify = app.function("classify", { handler: "functions/classify.ts", models: [intent], regions: [central, frankfurt] });
  const report = app.function("report", { handler: "functions/classify.ts", regions: [central] });
  app.route("POST /classify", { target: classify });
  app.route("POST /report", { target: report });
  return app.toSpec({ target: "aws" });
}

function argsFor(spec: SpecV1, extra: Partial<AwsAppArgs> = {}): AwsAppArgs {
  return {
    spec,
    root: example.root,
    networks: { central: network(1), frankfurt: network(2) },
    runtimeImage: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/cloudloom-runtime:0.1.0`,
    ...extra,
  };
}

const plan = async (args: AwsAppArgs): Promise<PlannedResource[]> =>
  (await planUnderMocks(() => new AwsApp("wake", args).endpoints)).resources;

const only = (resources: PlannedResource[], type: string, name: string): any => {
  const found = resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};
/** The value of a Pulumi secret, as the mocks record it. */
const revealed = (input: { value: string }) => input.value;
/** A function's declared secrets, from its Secrets Manager secret's version. */
const functionSecrets = (resources: PlannedResource[], fn: string) =>
  JSON.parse(revealed(only(resources, VERSION, `${fn}-secrets`).secretString)) as Record<string, string>;
const container = (resources: PlannedResource[], gateway: string) => JSON.parse(only(resources, TASK, gateway).containerDefinitions)[0];

describe("AWS: Lambda functions' calls to a held EKS model count in its demand (under mocks)", function () {
  this.timeout(180_000);

  describe("a generated token, two regions", () => {
    let resources: PlannedResource[];
    let token: string;
    before(async () => {
      resources = await plan(argsFor(twoRegions()));
      token = revealed(only(resources, VERSION, "wake-demand-token").secretString);
    });

    it("generates one token of 48 hex characters, kept by the stack's own secret in the first central region and copied to each gateway region's", () => {
      assert.match(token, /^[0-9a-f]{48}$/);
      for (const region of ["central", "frankfurt"])
        assert.equal(revealed(only(resources, VERSION, `wake-${region}-demand-token`).secretString), token);
      assert.deepEqual(
        resources
          .filter((r) => r.type === SECRET && r.name.endsWith("-demand-token"))
          .map((r) => r.name)
          .sort(),
        ["wake-central-demand-token", "wake-demand-token", "wake-frankfurt-demand-token"],
      );
    });

    it("gives each calling function its own region's gateway report URL, and the token among its secrets only", () => {
      for (const [region, awsRegion] of [
        ["central", "eu-west-1"],
        ["frankfurt", "eu-central-1"],
      ]) {
        const fn = `wake-fn-classify-${region}`;
        const variables = only(resources, LAMBDA, fn).environment.variables;
        assert.equal(
          variables.CLOUDLOOM_DEMAND_REPORT_URL,
          `http://wake-${region}-gateway.${awsRegion}.elb.amazonaws.com/_cloudloom/demand`,
        );
        assert.equal(variables.CLOUDLOOM_DEMAND_TOKEN, undefined);
        assert.equal(variables.CLOUDLOOM_SECRETS_ARN, `arn:aws:secretsmanager:${awsRegion}:${ACCOUNT}:${fn}-secrets`);
        assert.deepEqual(functionSecrets(resources, fn), { CLOUDLOOM_DEMAND_TOKEN: token });
        assert.deepEqual(JSON.parse(variables.CLOUDLOOM_RUNTIME).models.intent.hold, { maxPending: 100, maxWaitMs: 30_000 });
        assert.equal(JSON.parse(variables.CLOUDLOOM_RUNTIME).models.intent.region, region);
      }
      const report = only(resources, LAMBDA, "wake-fn-report-central").environment.variables;
      assert.equal(report.CLOUDLOOM_DEMAND_REPORT_URL, undefined, "a function that calls no model reports nothing");
      assert.equal(report.CLOUDLOOM_SECRETS_ARN, undefined);
    });

    it("gives every region's gateway the token from its region's secret, through the task's secrets, which its execution role may read", () => {
      for (const [region, awsRegion] of [
        ["central", "eu-west-1"],
        ["frankfurt", "eu-central-1"],
      ]) {
        const gateway = `wake-${region}-gateway`;
        const secretArn = `arn:aws:secretsmanager:${awsRegion}:${ACCOUNT}:wake-${region}-demand-token`;
        const definition = container(resources, gateway);
        assert.deepEqual(
          definition.secrets.filter((s: { name: string }) => s.name === "CLOUDLOOM_DEMAND_TOKEN"),
          [{ name: "CLOUDLOOM_DEMAND_TOKEN", valueFrom: secretArn }],
        );
        assert.ok(!definition.environment.some((e: { name: string }) => e.name === "CLOUDLOOM_DEMAND_TOKEN"));
        const execution = JSON.parse(only(resources, "aws:iam/rolePolicy:RolePolicy", `${gateway}-execution`).policy).Statement;
        assert.ok(
          execution.some(
            (s: { Action: string[]; Resource: string[] }) =>
              s.Action.includes("secretsmanager:GetSecretValue") && s.Resource.includes(secretArn),
          ),
          `${gateway}'s execution role may read the token`,
        );
      }
    });

    it("has the token in no resource input outside a Pulumi secret", () => {
      assert.deepEqual(plaintextOf(resources, token), []);
      assert.ok(plaintextOf(resources, "/_cloudloom/demand").length >= 2, "the search sees the functions' plain variables");
    });
  });

  it("uses the configured cloudloom:demandToken, and reports to the gateway domain when the gateways have certificates", async () => {
    const configured = "configured-demand-token-0123456789";
    const resources = await plan(
      argsFor(twoRegions(), {
        demandToken: pulumi.secret(configured),
        gateway: {
          certificateArn: {
            central: `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/0a1b2c3d-0000-4000-8000-00000000c001`,
            frankfurt: `arn:aws:acm:eu-central-1:${ACCOUNT}:certificate/0a1b2c3d-0000-4000-8000-00000000f001`,
          },
          dnsZoneId: "Z0123456789ABCDEFGHIJ",
          domain: "api.wake.example",
        },
      }),
    );
    for (const region of ["central", "frankfurt"]) {
      const fn = `wake-fn-classify-${region}`;
      assert.equal(
        only(resources, LAMBDA, fn).environment.variables.CLOUDLOOM_DEMAND_REPORT_URL,
        "https://api.wake.example/_cloudloom/demand",
      );
      assert.deepEqual(functionSecrets(resources, fn), { CLOUDLOOM_DEMAND_TOKEN: configured });
      assert.equal(revealed(only(resources, VERSION, `wake-${region}-demand-token`).secretString), configured);
    }
    assert.deepEqual(plaintextOf(resources, configured), []);
  });

  it("refuses a configured token shorter than 16 characters, before any resource, saying how to set one", () => {
    assert.throws(
      () => new AwsApp("wake", argsFor(twoRegions(), { demandToken: "short" })),
      /stack config cloudloom:demandToken must be at least 16 characters; set it with: pulumi config set --secret cloudloom:demandToken/,
    );
  });

  it("adds nothing when no function calls a model that holds, or no gateway can take reports", async () => {
    const certificatesOnly = {
      certificateArn: {
        central: `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/0a1b2c3d-0000-4000-8000-00000000c001`,
        frankfurt: `arn:aws:acm:eu-central-1:${ACCOUNT}:certificate/0a1b2c3d-0000-4000-8000-00000000f001`,
      },
    };
    for (const args of [argsFor(twoRegions(false)), argsFor(twoRegions(), { gateway: certificatesOnly })]) {
      const resources = await plan(args);
      assert.deepEqual(
        resources.filter((r) => r.name.includes("demand-token")).map((r) => r.name),
        [],
      );
      for (const fn of resources.filter((r) => r.type === LAMBDA))
        assert.equal((fn.inputs as any).environment.variables.CLOUDLOOM_DEMAND_REPORT_URL, undefined, fn.name);
      for (const task of resources.filter((r) => r.type === TASK))
        assert.doesNotMatch((task.inputs as any).containerDefinitions, /CLOUDLOOM_DEMAND_TOKEN/, task.name);
    }
  });

  it("plans the example with the offline placeholder token, so plans compare equal: both Lambda functions report to central's gateway", async () => {
    const offline = await planApp("examples/support-desk", "aws", stackConfig("aws"));
    assert.ok(offline.placeholders.includes("demandToken"));
    for (const fn of ["support-desk-fn-classify-central", "support-desk-fn-reclassify-central"]) {
      const variables = (offline.resources.find((r) => r.type === LAMBDA && r.name === fn)!.inputs as any).environment.variables;
      assert.equal(
        variables.CLOUDLOOM_DEMAND_REPORT_URL,
        "http://support-desk-central-gateway.eu-west-1.elb.amazonaws.com/_cloudloom/demand",
      );
      assert.equal(functionSecrets(offline.resources, fn).CLOUDLOOM_DEMAND_TOKEN, "offline-placeholder-demand-token");
    }
    assert.deepEqual(plaintextOf(offline.resources, "offline-placeholder-demand-token"), []);
  });
});
