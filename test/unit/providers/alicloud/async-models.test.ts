import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import { validate } from "../../../../sdk";
import app from "../../../fixtures/async-model-app/app";

const APP = "test/fixtures/async-model-app";
const DEAD_LETTER = "acs:mns:eu-central-1:123456789012:/queues/batch-mq-intent-v1-central-dlq/messages";

const only = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}; have ${plan.resources.filter((r) => r.type === type).map((r) => r.name)}`);
  return found[0].inputs;
};

describe("Alibaba Cloud: asynchronous model routes (FC asynchronous invocation of the model's FC function; under mocks)", () => {
  let plan: Plan;
  before(async () => {
    plan = await planApp(APP, "alicloud", stackConfig("alicloud"));
  });

  it("configures asynchronous invocation on the model version's own function's live alias, with its MNS dead letter", () => {
    const config = only(plan, "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig", "batch-intent-v1-central-async");
    assert.deepEqual(
      [config.functionName, config.qualifier, config.maxAsyncRetryAttempts, config.maxAsyncEventAgeInSeconds, config.asyncTask],
      ["batch-intent-v1-central", "live", 2, 172_800, true],
    );
    assert.deepEqual(config.destinationConfig, { onFailure: { destination: DEAD_LETTER } });
    const queue = only(plan, "alicloud:message/serviceQueue:ServiceQueue", "batch-mq-intent-v1-central-dlq");
    assert.deepEqual(
      [
        queue.queueName,
        queue.messageRetentionPeriod,
        queue.enableSse,
        queue.tags["cloudloom.dev/kind"],
        queue.tags["cloudloom.dev/version"],
      ],
      ["batch-mq-intent-v1-central-dlq", 604_800, true, "model", "1"],
    );
    // The model's function is a custom container: the runtime's model server, which marks a failed attempt for FC.
    const fn = only(plan, "alicloud:fc/v3Function:V3Function", "batch-intent-v1-central");
    assert.equal(fn.runtime, "custom-container");
  });

  it("lets the model function's role, with which FC delivers a dead letter, send to exactly that queue", () => {
    const policy = JSON.parse(only(plan, "alicloud:ram/policy:Policy", "batch-intent-v1-central-dead-letter").policyDocument);
    assert.deepEqual(policy.Statement, [{ Effect: "Allow", Action: ["mns:SendMessage"], Resource: [DEAD_LETTER] }]);
    const attached = only(plan, "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment", "batch-intent-v1-central-dead-letter");
    const role = only(plan, "alicloud:ram/role:Role", "batch-intent-v1-central-role");
    assert.equal(attached.roleName, role.roleName);
    // The mocks name a role's ARN after its resource: the function runs as that role, which may also read its artifact.
    assert.equal(
      only(plan, "alicloud:fc/v3Function:V3Function", "batch-intent-v1-central").role,
      "acs:ram::123456789012:role/batch-intent-v1-central-role",
    );
  });

  it("queues a canaried model's version on its published version, the qualifier of its own trigger, without a dead letter", () => {
    const config = only(plan, "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig", "batch-ranker-central-v2-async");
    const trigger = only(plan, "alicloud:fc/v3Trigger:V3Trigger", "batch-ranker-central-v2");
    assert.deepEqual(
      [config.functionName, config.qualifier, config.maxAsyncRetryAttempts, config.asyncTask, config.destinationConfig],
      ["batch-ranker-central", trigger.qualifier, 1, true, undefined],
    );
    assert.notEqual(config.qualifier, "live");
    assert.equal(plan.resources.filter((r) => r.type === "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig").length, 2, "not version 1");
    assert.ok(!plan.resources.some((r) => r.name === "batch-ranker-central-v2-dead-letter"));
  });

  it("lets the gateway read exactly these functions' tasks, and tells it where to submit and read", () => {
    const policy = JSON.parse(only(plan, "alicloud:ram/policy:Policy", "batch-gateway-central-async-tasks").policyDocument);
    assert.deepEqual(policy.Statement, [
      {
        Effect: "Allow",
        Action: ["fc:GetAsyncTask"],
        Resource: [
          "acs:fc:eu-central-1:123456789012:functions/batch-intent-v1-central",
          "acs:fc:eu-central-1:123456789012:functions/batch-ranker-central",
        ],
      },
    ]);
    const version = only(plan, "alicloud:fc/v3Trigger:V3Trigger", "batch-ranker-central-v2").qualifier;
    assert.deepEqual(plan.endpoints.queues, {
      "model:intent@1": {
        kind: "fc",
        api: "123456789012.eu-central-1.fc.aliyuncs.com",
        functionName: "batch-intent-v1-central",
        qualifier: "live",
      },
      "model:ranker@2": {
        kind: "fc",
        api: "123456789012.eu-central-1.fc.aliyuncs.com",
        functionName: "batch-ranker-central",
        qualifier: version,
      },
    });
  });

  it("refuses before creating anything when the queued model runs on ACK, naming CL_ASYNC_MODEL_HOST", () => {
    const spec = app.toSpec({ target: "alicloud" });
    spec.gpuPools.t4.platform = "kubernetes";
    const problems = validate(spec, { target: "alicloud" });
    assert.equal(problems.ok, false);
    assert.deepEqual(
      problems.problems.map((p) => `${p.code} ${p.path}`),
      ["CL_ASYNC_MODEL_HOST routes.POST /v1/rank/batch.async"],
    );
    assert.match(problems.problems[0].message, /ranker@2.*ACK node pool/);
  });
});
