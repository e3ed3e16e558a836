import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";

const only = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}; have ${plan.resources.filter((r) => r.type === type).map((r) => r.name)}`);
  return found[0].inputs;
};

describe("Alibaba Cloud: the example's asynchronous backlog route (FC asynchronous invocation, an MNS dead letter, RAM; under mocks)", () => {
  let plan: Plan;
  before(async () => {
    plan = await planApp("examples/support-desk", "alicloud", stackConfig("alicloud"));
  });

  it("configures the function's asynchronous invocation on live: retries, event age from the retention, task mode, the dead letter", () => {
    const config = only(plan, "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig", "support-desk-fn-reclassify-central-async");
    assert.deepEqual(
      [config.functionName, config.qualifier, config.maxAsyncRetryAttempts, config.maxAsyncEventAgeInSeconds, config.asyncTask],
      ["support-desk-fn-reclassify-central", "live", 3, 86_400, true],
    );
    assert.deepEqual(config.destinationConfig, {
      onFailure: { destination: "acs:mns:eu-central-1:123456789012:/queues/support-desk-fn-reclassify-central-dlq/messages" },
    });
    assert.equal(plan.resources.filter((r) => r.type === "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig").length, 1);
  });

  it("keeps failed jobs in an encrypted MNS queue for seven days, which only the function's role may send to", () => {
    const queue = only(plan, "alicloud:message/serviceQueue:ServiceQueue", "support-desk-fn-reclassify-central-dlq");
    assert.deepEqual(
      [queue.queueName, queue.messageRetentionPeriod, queue.enableSse],
      ["support-desk-fn-reclassify-central-dlq", 604_800, true],
    );
    const fn = only(plan, "alicloud:fc/v3Function:V3Function", "support-desk-fn-reclassify-central");
    assert.equal(fn.role, "acs:ram::123456789012:role/support-desk-fn-reclassify-central-role");
    const policy = JSON.parse(only(plan, "alicloud:ram/policy:Policy", "support-desk-fn-reclassify-central-dead-letter").policyDocument);
    assert.deepEqual(policy.Statement, [
      {
        Effect: "Allow",
        Action: ["mns:SendMessage"],
        Resource: ["acs:mns:eu-central-1:123456789012:/queues/support-desk-fn-reclassify-central-dlq/messages"],
      },
    ]);
  });

  it("lets the gateway read exactly the asynchronous functions' tasks, and tells it where to submit and read", () => {
    const policy = JSON.parse(only(plan, "alicloud:ram/policy:Policy", "support-desk-gateway-central-async-tasks").policyDocument);
    assert.deepEqual(policy.Statement, [
      {
        Effect: "Allow",
        Action: ["fc:GetAsyncTask"],
        Resource: ["acs:fc:eu-central-1:123456789012:functions/support-desk-fn-reclassify-central"],
      },
    ]);
    assert.deepEqual(plan.endpoints.queues, {
      "function:reclassify": {
        kind: "fc",
        api: "123456789012.eu-central-1.fc.aliyuncs.com",
        functionName: "support-desk-fn-reclassify-central",
        qualifier: "live",
      },
    });
  });
});
