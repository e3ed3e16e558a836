import assert from "node:assert/strict";
import { planApp, stackConfig } from "../../../cli/plan";
import { noPlaintextSecrets } from "../../../policy/policies/no-plaintext-secrets";
import type { PlannedPolicyResource } from "../../../policy/resources";
import { evaluatePolicies, toPolicyResources } from "../../../policy/runner";

const r = (type: string, name: string, props: Record<string, any>): PlannedPolicyResource => ({
  type,
  name,
  urn: `${type}::${name}`,
  props,
});
const SECRET = "4dabf18193072939515e22adb298388d";
const app = (type = "cloudloom:aws:App") =>
  r(type, "a", {
    spec: JSON.stringify({
      functions: { classify: { environment: { LOG_LEVEL: "info", CRM_TOKEN: { secret: "crm-token" } } } },
    }),
  });
const messages = async (resources: PlannedPolicyResource[]) =>
  (await evaluatePolicies(resources, {}, [noPlaintextSecrets])).map((v) => v.message);

describe("policy cloudloom-no-plaintext-secrets", () => {
  it("passes functions and tasks that hold only plain variables and the secret's ARN", async () => {
    assert.deepEqual(
      await messages([
        app(),
        r("aws:lambda/function:Function", "fn", {
          environment: { variables: { LOG_LEVEL: "info", CLOUDLOOM_SECRETS_ARN: "arn:aws:secretsmanager:eu-west-1:1:secret:x" } },
        }),
        r("aws:ecs/taskDefinition:TaskDefinition", "task", {
          containerDefinitions: JSON.stringify([
            { environment: [{ name: "LOG_LEVEL", value: "info" }], secrets: [{ name: "CRM_TOKEN", valueFrom: "arn:..." }] },
          ]),
        }),
        r("alicloud:fc/v3Function:V3Function", "fc", { environmentVariables: { LOG_LEVEL: "info" } }),
      ]),
      [],
    );
  });

  it("fails any function or task that sets the tracing collector's headers as a literal, whatever the spec declares", async () => {
    assert.deepEqual(
      await messages([
        r("aws:lambda/function:Function", "fn", { environment: { variables: { OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=k" } } }),
        r("aws:ecs/taskDefinition:TaskDefinition", "task", {
          containerDefinitions: JSON.stringify([{ environment: [{ name: "OTEL_EXPORTER_OTLP_TRACES_HEADERS", value: "x-api-key=k" }] }]),
        }),
        r("alicloud:fc/v3Function:V3Function", "fc", {
          environmentVariables: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otlp.example.net/v1/traces" },
        }),
      ]),
      [
        "Lambda function fn sets secret OTEL_EXPORTER_OTLP_HEADERS in its plain environment; keep it in Secrets Manager and give the function only the secret's ARN (CLOUDLOOM_SECRETS_ARN)",
        "ECS task definition task sets secret OTEL_EXPORTER_OTLP_TRACES_HEADERS in its plain environment; take it from a Secrets Manager secret through the container's secrets (valueFrom)",
      ],
    );
  });

  it("fails a Lambda, an ECS task and an FC function that set a declared secret as a literal, secret-wrapped or not", async () => {
    assert.deepEqual(
      await messages([
        app("cloudloom:kubernetes:App"),
        r("aws:lambda/function:Function", "fn", {
          [SECRET]: SECRET,
          environment: { [SECRET]: SECRET, value: { variables: { LOG_LEVEL: "info", CRM_TOKEN: "hunter2" } } },
        }),
        r("aws:ecs/taskDefinition:TaskDefinition", "task", {
          containerDefinitions: { [SECRET]: SECRET, value: JSON.stringify([{ environment: [{ name: "CRM_TOKEN", value: "hunter2" }] }]) },
        }),
        r("alicloud:fc/v3Function:V3Function", "fc", { environmentVariables: { CRM_TOKEN: "hunter2" } }),
      ]),
      [
        "Lambda function fn sets secret CRM_TOKEN in its plain environment; keep it in Secrets Manager and give the function only the secret's ARN (CLOUDLOOM_SECRETS_ARN)",
        "ECS task definition task sets secret CRM_TOKEN in its plain environment; take it from a Secrets Manager secret through the container's secrets (valueFrom)",
        "Function Compute function fc sets secret CRM_TOKEN in its plain environment; keep it in the cloud's secret store and have the runtime read it at cold start",
      ],
    );
    const all = (
      await messages([app(), r("aws:lambda/function:Function", "fn", { environment: { variables: { CRM_TOKEN: "hunter2" } } })])
    ).join("\n");
    assert.ok(!all.includes("hunter2"), "a violation never quotes the value");
  });

  it("checks nothing when no function declares a secret", async () => {
    assert.deepEqual(
      await messages([r("aws:lambda/function:Function", "fn", { environment: { variables: { CRM_TOKEN: "hunter2" } } })]),
      [],
    );
  });

  for (const target of ["aws", "kubernetes"] as const)
    it(`passes the example on ${target}`, async () => {
      const plan = await planApp("examples/support-desk", target, stackConfig(target));
      assert.deepEqual(await messages(toPolicyResources(plan.resources)), []);
    });
});
