import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import { noPlaintextSecrets } from "../../../../policy/policies/no-plaintext-secrets";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const ENDPOINT = "https://otlp.example.net/v1/traces";
const KEY = "collector-key-never-inline";
const PLAIN = {
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ENDPOINT,
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0.5",
  OTEL_RESOURCE_ATTRIBUTES: "service.namespace=desk",
};
const otelOf = (variables: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(variables).filter(([name]) => name.startsWith("OTEL_")));
/** An FC function's variables: the gateway's are one Pulumi secret (they name its API keys' secret). */
const variablesOf = (fn: any): Record<string, string> =>
  SECRET_SIG in fn.inputs.environmentVariables ? fn.inputs.environmentVariables.value : fn.inputs.environmentVariables;

describe("tracing on Alibaba Cloud (the example under mocks, with cloudloom:tracing set)", () => {
  let plan: Plan;
  const all = (type: string) => plan.resources.filter((r) => r.type === type) as any[];

  before(async () => {
    plan = await planApp("examples/support-desk", "alicloud", {
      ...stackConfig("alicloud"),
      tracing: JSON.stringify({ endpoint: ENDPOINT, sampleRatio: 0.5, serviceNamespace: "desk" }),
      tracingHeaders: JSON.stringify({ "x-api-key": KEY }),
    });
  });

  it("gives every FC function (functions, models, gateways) the plain variables and only the name of the headers' KMS secret", () => {
    const functions = all("alicloud:fc/v3Function:V3Function");
    const kinds = functions.map((fn) => fn.inputs.tags["cloudloom.dev/kind"]);
    for (const kind of ["function", "model", "gateway"]) assert.ok(kinds.includes(kind), kind);
    for (const fn of functions) {
      const variables = variablesOf(fn);
      assert.deepEqual(otelOf(variables), PLAIN, fn.name);
      const region = fn.name.includes("edge-berlin") ? "edge-berlin" : "central";
      assert.equal(
        JSON.parse(variables.CLOUDLOOM_KMS_SECRETS).OTEL_EXPORTER_OTLP_HEADERS,
        `support-desk-${region}-tracing-headers`,
        fn.name,
      );
      assert.equal(variables.CLOUDLOOM_ALICLOUD_REGION, "eu-central-1", `${fn.name} knows the secret's region`);
    }
  });

  it("keeps the headers in one KMS secret per region, which each function's role may read", () => {
    const secrets = all("alicloud:kms/secret:Secret").filter((s) => s.name.endsWith("-tracing-headers"));
    assert.deepEqual(secrets.map((s) => s.name).sort(), [
      "support-desk-central-tracing-headers",
      "support-desk-edge-berlin-tracing-headers",
    ]);
    for (const secret of secrets) {
      assert.ok(SECRET_SIG in secret.inputs.secretData, "a Pulumi secret");
      assert.equal(secret.inputs.secretData.value, `x-api-key=${KEY}`);
    }
    const readers = all("alicloud:ram/policy:Policy").filter((p) => p.name.endsWith("-secrets"));
    const functions = all("alicloud:fc/v3Function:V3Function");
    for (const fn of functions) {
      const policy = readers.find((p) => p.name === `${fn.name}-secrets`);
      assert.ok(policy, `${fn.name} has a secret-read policy`);
      const region = fn.name.includes("edge-berlin") ? "edge-berlin" : "central";
      assert.ok(
        JSON.parse(policy.inputs.policyDocument).Statement[0].Resource.some((r: string) =>
          r.endsWith(`secret/support-desk-${region}-tracing-headers`),
        ),
        `${fn.name} may read its region's headers`,
      );
    }
  });

  it("never puts the headers' value in any resource but the KMS secrets", () => {
    const holders = plan.resources.filter((r) => JSON.stringify(r.inputs).includes(KEY)).map((r) => `${r.type} ${r.name}`);
    assert.deepEqual(holders.sort(), [
      "alicloud:kms/secret:Secret support-desk-central-tracing-headers",
      "alicloud:kms/secret:Secret support-desk-edge-berlin-tracing-headers",
    ]);
  });

  it("passes the no-plaintext-secrets policy, which holds the headers to be a secret", async () => {
    assert.deepEqual(await evaluatePolicies(toPolicyResources(plan.resources), {}, [noPlaintextSecrets]), []);
  });

  it("creates none of it without the setting", async () => {
    const plain = await planApp("examples/support-desk", "alicloud", stackConfig("alicloud"));
    assert.ok(!JSON.stringify(plain.resources).includes("OTEL_"), "no OTEL_* variable anywhere");
    assert.ok(!plain.resources.some((r) => r.name.includes("tracing")), "no tracing secret");
  });
});
