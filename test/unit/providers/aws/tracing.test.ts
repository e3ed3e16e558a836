import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { App } from "../../../../sdk";
import example from "../../../../examples/support-desk/app";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import { noPlaintextSecrets } from "../../../../policy/policies/no-plaintext-secrets";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";
import { AwsApp } from "../../../../providers/aws/app";
import { collectorEgress } from "../../../../providers/aws/gateway";
import { planUnderMocks } from "../../../../providers/plan";
import { parseTracingSettings, type TracingSettings } from "../../../../providers/shared/tracing";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const ENDPOINT = "http://otel.internal.example:4318/v1/traces";
const TRACING = { endpoint: ENDPOINT, sampleRatio: 0.05, collector: { cidrs: ["10.1.40.0/24"] } };
const KEY = "collector-key-never-inline";
const PLAIN = {
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ENDPOINT,
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0.05",
  OTEL_RESOURCE_ATTRIBUTES: "service.namespace=support-desk",
};
const otelOf = (variables: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(variables).filter(([name]) => name.startsWith("OTEL_")));

describe("tracing on AWS (the example under mocks, with cloudloom:tracing set)", () => {
  let plan: Plan;
  const all = (type: string) => plan.resources.filter((r) => r.type === type) as any[];
  const only = (type: string, name: string): any => {
    const found = all(type).filter((r) => r.name === name);
    assert.equal(found.length, 1, `one ${type} ${name}`);
    return found[0].inputs;
  };

  before(async () => {
    plan = await planApp("examples/support-desk", "aws", {
      ...stackConfig("aws"),
      tracing: JSON.stringify(TRACING),
      tracingHeaders: JSON.stringify({ "x-api-key": KEY }),
    });
  });

  it("gives every Lambda function the plain OTEL_* variables, and keeps the headers in its Secrets Manager secret", () => {
    const functions = all("aws:lambda/function:Function");
    assert.deepEqual(functions.map((f) => f.name).sort(), ["support-desk-fn-classify-central", "support-desk-fn-reclassify-central"]);
    for (const fn of functions) {
      const variables = fn.inputs.environment.variables;
      assert.deepEqual(otelOf(variables), PLAIN, fn.name);
      assert.match(variables.CLOUDLOOM_SECRETS_ARN, /^arn:aws:secretsmanager:eu-west-1:/, `${fn.name} reads its secret`);
      const version = only("aws:secretsmanager/secretVersion:SecretVersion", `${fn.name}-secrets`);
      assert.ok(SECRET_SIG in version.secretString, "stored as a Pulumi secret");
      assert.equal(JSON.parse(version.secretString.value).OTEL_EXPORTER_OTLP_HEADERS, `x-api-key=${KEY}`, fn.name);
    }
    // The declared secret and the demand reports' token sit beside the headers in classify's secret.
    const classify = JSON.parse(
      only("aws:secretsmanager/secretVersion:SecretVersion", "support-desk-fn-classify-central-secrets").secretString.value,
    );
    assert.deepEqual(Object.keys(classify), ["CLOUDLOOM_DEMAND_TOKEN", "CRM_TOKEN", "OTEL_EXPORTER_OTLP_HEADERS"]);
  });

  it("gives the ECS gateway the variables in its task definition and the headers from Secrets Manager, which its execution role may read", () => {
    const task = only("aws:ecs/taskDefinition:TaskDefinition", "support-desk-central-gateway");
    const [container] = JSON.parse(task.containerDefinitions);
    const environment = Object.fromEntries(container.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.deepEqual(otelOf(environment), PLAIN);
    const headers = container.secrets.find((s: { name: string }) => s.name === "OTEL_EXPORTER_OTLP_HEADERS");
    assert.equal(headers.valueFrom, "arn:aws:secretsmanager:eu-west-1:123456789012:support-desk-central-gateway-tracing-headers");
    const version = only("aws:secretsmanager/secretVersion:SecretVersion", "support-desk-central-gateway-tracing-headers");
    assert.ok(SECRET_SIG in version.secretString);
    assert.equal(version.secretString.value, `x-api-key=${KEY}`);
    const execution = JSON.parse(only("aws:iam/rolePolicy:RolePolicy", "support-desk-central-gateway-execution").policy);
    assert.ok(JSON.stringify(execution).includes(headers.valueFrom), "the execution role may read the headers' secret");
  });

  it("opens the tasks to no more than the collector's port, only off 443, at its CIDRs when named", () => {
    assert.deepEqual(collectorEgress({ endpoint: "https://api.honeycomb.io/v1/traces", sampleRatio: 1 }), []);
    assert.deepEqual(collectorEgress({ endpoint: ENDPOINT, sampleRatio: 1, collector: { cidrs: ["10.0.5.0/24", "2001:db8::/48"] } }), [
      { cidrIpv4: "10.0.5.0/24" },
      { cidrIpv6: "2001:db8::/48" },
    ]);
    assert.deepEqual(collectorEgress({ endpoint: ENDPOINT, sampleRatio: 1 }), [{ cidrIpv4: "0.0.0.0/0" }]);
  });

  it("opens the gateway's tasks to the collector's port at its CIDRs only", () => {
    const rule = only("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "support-desk-central-gateway-tasks-to-collector-0");
    assert.deepEqual([rule.ipProtocol, rule.fromPort, rule.toPort, rule.cidrIpv4], ["tcp", 4318, 4318, "10.1.40.0/24"]);
  });

  it("traces the Wavelength region's pods and gateway on its cluster, the headers from a Kubernetes Secret", () => {
    const deployments = all("kubernetes:apps/v1:Deployment");
    assert.ok(deployments.length >= 3, "the zone's function, model and gateway");
    for (const deployment of deployments)
      for (const container of deployment.inputs.spec.template.spec.containers) {
        const env = container.env as any[];
        assert.deepEqual(
          Object.fromEntries(env.filter((e) => e.name.startsWith("OTEL_") && e.value !== undefined).map((e) => [e.name, e.value])),
          PLAIN,
          deployment.name,
        );
        assert.deepEqual(
          env.find((e) => e.name === "OTEL_EXPORTER_OTLP_HEADERS").valueFrom,
          { secretKeyRef: { name: "support-desk-tracing", key: "headers" } },
          deployment.name,
        );
      }
    const policies = all("kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((p) => p.inputs.metadata.name === "support-desk-tracing");
    for (const policy of policies)
      assert.deepEqual(policy.inputs.spec.egress, [
        { to: [{ ipBlock: { cidr: "10.1.40.0/24" } }], ports: [{ protocol: "TCP", port: 4318 }] },
      ]);
    assert.ok(policies.length >= 1);
  });

  it("never puts the headers' value in any resource but a secret's own store", () => {
    const holders = plan.resources.filter((r) => JSON.stringify(r.inputs).includes(KEY)).map((r) => r.type);
    assert.ok(holders.length > 0);
    for (const type of holders)
      assert.ok(
        ["aws:secretsmanager/secretVersion:SecretVersion", "kubernetes:core/v1:Secret"].includes(type),
        `the value is in a ${type}`,
      );
  });

  it("passes the no-plaintext-secrets policy, which holds the headers to be a secret", async () => {
    assert.deepEqual(await evaluatePolicies(toPolicyResources(plan.resources), {}, [noPlaintextSecrets]), []);
  });

  it("creates none of it without the setting", async () => {
    const plain = await planApp("examples/support-desk", "aws", stackConfig("aws"));
    assert.ok(!JSON.stringify(plain.resources).includes("OTEL_"), "no OTEL_* variable anywhere");
    assert.ok(!plain.resources.some((r) => /tracing|collector/.test(r.name)), "no tracing secret, rule or policy");
    // reclassify declares no secret: without tracing headers its Secrets Manager secret holds only the demand reports' token.
    const reclassify = plain.resources.find(
      (r) => r.name === "support-desk-fn-reclassify-central-secrets" && r.type.endsWith("SecretVersion"),
    );
    assert.deepEqual(Object.keys(JSON.parse((reclassify!.inputs as any).secretString.value)), ["CLOUDLOOM_DEMAND_TOKEN"]);
  });
});

describe("tracing on SageMaker Serverless (an app with one CPU model)", () => {
  const app = new App("cpu-app", { root: example.root });
  const central = app.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
  app.model("intent", {
    version: "2",
    artifact: { path: "model/intent.onnx", sha256: example.toDraft().models["intent@1"].artifact.sha256 },
    signature: {
      inputs: { features: { type: "float32", shape: [-1, 512] } },
      outputs: { probabilities: { type: "float32", shape: [-1, 5] } },
    },
    regions: [central],
  });
  const modelEnvironment = async (tracing: TracingSettings | undefined): Promise<Record<string, string>> => {
    const { resources } = await planUnderMocks(
      () =>
        new AwsApp("cpu-app", {
          spec: app.toSpec({ target: "aws" }),
          root: example.root,
          sagemakerImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloudloom-runtime:0.1.0",
          networks: {
            central: {
              vpcId: "vpc-0a1b2c3d4e5f60001",
              subnetIds: ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"],
              publicSubnetIds: ["subnet-0a1b2c3d4e5f60013", "subnet-0a1b2c3d4e5f60014"],
              cidrBlock: "10.1.0.0/16",
            },
          },
          tracing,
        }).endpoints,
    );
    return (resources.find((r) => r.type === "aws:sagemaker/model:Model")!.inputs as any).primaryContainer.environment;
  };
  const own = { CLOUDLOOM_SAGEMAKER_MODEL: "intent@2", CLOUDLOOM_REGION: "central" };

  it("passes the plain variables to the model's container beside its own", async () => {
    assert.deepEqual(await modelEnvironment(parseTracingSettings(JSON.stringify(TRACING))), {
      ...PLAIN,
      OTEL_RESOURCE_ATTRIBUTES: "service.namespace=cpu-app",
      ...own,
    });
  });

  it("does not trace it when the collector needs headers, which SageMaker cannot hand a container as a secret", async () => {
    const tracing = parseTracingSettings(JSON.stringify(TRACING), {
      names: ["x-api-key"],
      values: pulumi.secret(JSON.stringify({ "x-api-key": KEY })),
    });
    assert.deepEqual(await modelEnvironment(tracing), own);
    assert.deepEqual(await modelEnvironment(undefined), own);
  });
});
