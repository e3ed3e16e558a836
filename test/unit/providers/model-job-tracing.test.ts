import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../cli/plan";
import type { Target } from "../../../sdk/spec";

const APP = "test/fixtures/traced-jobs-app";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const ENDPOINT = "http://otel.internal.example:4318/v1/traces";
const KEY = "collector-key-never-inline";
const PLAIN = {
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ENDPOINT,
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0.25",
  OTEL_RESOURCE_ATTRIBUTES: "service.namespace=traced",
};
const TRACED = {
  tracing: JSON.stringify({ endpoint: ENDPOINT, sampleRatio: 0.25, collector: { cidrs: ["10.1.40.0/24"] } }),
  tracingHeaders: JSON.stringify({ "x-api-key": KEY }),
};

/** Plans the fixture on `target` under Pulumi's mocks (they throw on calls nothing mocks), traced or not. */
const plan = (target: Target, traced: boolean): Promise<Plan> =>
  planApp(APP, target, {
    ...stackConfig(target),
    sagemakerImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloudloom-runtime:0.1.0",
    ...(traced ? TRACED : {}),
  });

/** The awaited inputs of the one resource of `type` named `name`. */
function only(planned: Plan, type: string, name: string): any {
  const found = planned.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}; have ${planned.resources.filter((r) => r.type === type).map((r) => r.name)}`);
  return found[0].inputs;
}

const otelOf = (variables: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(variables).filter(([name]) => name.startsWith("OTEL_")));

describe("a model's job worker is traced as the app's functions are, on every target (the fixture under mocks)", () => {
  describe("AWS: the Lambda job worker", () => {
    let traced: Plan;
    let untraced: Plan;
    const LAMBDA = "aws:lambda/function:Function";
    const VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
    before(async () => {
      traced = await plan("aws", true);
      untraced = await plan("aws", false);
    });

    it("gives the worker the function's plain OTEL_* variables beside its CLOUDLOOM_RUNTIME", () => {
      const worker = only(traced, LAMBDA, "traced-jobs-intent-v1-central").environment.variables;
      const fn = only(traced, LAMBDA, "traced-fn-work-central").environment.variables;
      assert.deepEqual(otelOf(worker), PLAIN);
      assert.deepEqual(otelOf(worker), otelOf(fn));
      assert.equal(JSON.parse(worker.CLOUDLOOM_RUNTIME).model.key, "intent@1");
    });

    it("keeps the export headers in a Secrets Manager secret of the worker's own, as the function's, which only its role may read", () => {
      const worker = only(traced, LAMBDA, "traced-jobs-intent-v1-central").environment.variables;
      const fn = only(traced, LAMBDA, "traced-fn-work-central").environment.variables;
      for (const [name, variables] of [
        ["traced-jobs-intent-v1-central", worker],
        ["traced-fn-work-central", fn],
      ]) {
        assert.match(variables.CLOUDLOOM_SECRETS_ARN, /^arn:aws:secretsmanager:eu-west-1:\d{12}:/, name);
        const version = only(traced, VERSION, `${name}-secrets`);
        assert.ok(SECRET_SIG in version.secretString, `${name}: stored as a Pulumi secret`);
        assert.deepEqual(JSON.parse(version.secretString.value), { OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${KEY}` }, name);
      }
      assert.notEqual(worker.CLOUDLOOM_SECRETS_ARN, fn.CLOUDLOOM_SECRETS_ARN, "each reads its own secret");
      const statements = JSON.parse(only(traced, "aws:iam/rolePolicy:RolePolicy", "traced-jobs-intent-v1-central-policy").policy).Statement;
      const reads = statements.filter((s: any) => [s.Action].flat().includes("secretsmanager:GetSecretValue"));
      assert.deepEqual(
        reads.flatMap((s: any) => [s.Resource].flat()),
        [worker.CLOUDLOOM_SECRETS_ARN],
      );
      assert.ok(!JSON.stringify(traced.resources.filter((r) => r.type !== VERSION)).includes(KEY), "the value is in no other resource");
    });

    it("gives the worker none of it without tracing, as the function", () => {
      const worker = only(untraced, LAMBDA, "traced-jobs-intent-v1-central").environment.variables;
      assert.deepEqual(Object.keys(worker), ["CLOUDLOOM_RUNTIME"]);
      assert.ok(!untraced.resources.some((r) => r.name === "traced-jobs-intent-v1-central-secrets"));
    });
  });

  describe("Alibaba Cloud: the model's FC function, which runs its asynchronous invocations", () => {
    let traced: Plan;
    const FC = "alicloud:fc/v3Function:V3Function";
    before(async () => {
      traced = await plan("alicloud", true);
    });

    it("works the model's queue (FC's asynchronous invocation on its live alias) with the function's tracing variables", () => {
      only(traced, "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig", "traced-intent-v1-central-async");
      const worker = only(traced, FC, "traced-intent-v1-central").environmentVariables;
      const fn = only(traced, FC, "traced-fn-work-central").environmentVariables;
      assert.deepEqual(otelOf(worker), PLAIN);
      assert.deepEqual(otelOf(worker), otelOf(fn));
      assert.deepEqual(
        JSON.parse(worker.CLOUDLOOM_KMS_SECRETS).OTEL_EXPORTER_OTLP_HEADERS,
        JSON.parse(fn.CLOUDLOOM_KMS_SECRETS).OTEL_EXPORTER_OTLP_HEADERS,
        "the name of the region's headers secret, never its value",
      );
    });
  });

  describe("Kubernetes: the model's pods, which work its queue", () => {
    let traced: Plan;
    const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
    before(async () => {
      traced = await plan("kubernetes", true);
    });

    it("gives the model container that works the queue the function container's tracing variables", () => {
      const envOf = (name: string): any[] => only(traced, DEPLOYMENT, name).spec.template.spec.containers[0].env;
      const worker = envOf("traced-intent-v1-central");
      assert.ok(
        worker.some((e) => e.name === "CLOUDLOOM_REDIS_URL"),
        "the model's pods work its queue",
      );
      const otel = (env: any[]) => env.filter((e) => e.name.startsWith("OTEL_"));
      assert.deepEqual(otel(worker), otel(envOf("traced-fn-work-central")));
      assert.deepEqual(
        otel(worker).map((e) => e.name),
        [...Object.keys(PLAIN), "OTEL_EXPORTER_OTLP_HEADERS"],
      );
    });
  });
});
