import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import { leastPrivilege } from "../../../../policy/policies/least-privilege";
import { cloudloomLabels } from "../../../../policy/policies/labels";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";
import { MODEL_WORKER_SOURCE } from "../../../../providers/aws/model-jobs";

const APP = "test/fixtures/async-model-app";
const ACCOUNT = "arn:aws:sqs:eu-west-1:123456789012";
const TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:batch-central-invocations";

const only = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}; have ${plan.resources.filter((r) => r.type === type).map((r) => r.name)}`);
  return found[0].inputs;
};
const statements = (plan: Plan, name: string): Array<[string[], string[]]> =>
  JSON.parse(only(plan, "aws:iam/rolePolicy:RolePolicy", name).policy).Statement.map((s: any) => [s.Action, s.Resource]);
/** The files of a planned asset archive, by path. */
async function archiveFiles(archive: { assets: Promise<Record<string, { text: Promise<string> }>> }): Promise<Record<string, string>> {
  const assets = await archive.assets;
  return Object.fromEntries(await Promise.all(Object.entries(assets).map(async ([path, asset]) => [path, await asset.text])));
}

describe("AWS: asynchronous model routes (an SQS queue and a Lambda job worker per model version; under mocks)", () => {
  let plan: Plan;
  before(async () => {
    plan = await planApp(APP, "aws", {
      ...stackConfig("aws"),
      sagemakerImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloudloom-runtime:0.1.0",
    });
  });

  it("queues each model version in its home region: encrypted, kept for the retention, hidden six worker timeouts at a time", () => {
    const intent = only(plan, "aws:sqs/queue:Queue", "batch-mq-intent-v1-central");
    // intent's attempts take 2 minutes; its worker 130 s (10 s to record a timed-out attempt); 6 × 130.
    assert.deepEqual(
      [intent.sqsManagedSseEnabled, intent.messageRetentionSeconds, intent.visibilityTimeoutSeconds, intent.maxMessageSize],
      [true, 172_800, 780, 262_144],
    );
    assert.deepEqual(JSON.parse(intent.redrivePolicy), {
      deadLetterTargetArn: `${ACCOUNT}:batch-mq-intent-v1-central-dlq`,
      maxReceiveCount: 3,
    });
    assert.deepEqual(intent.tags, {
      "cloudloom.dev/app": "batch",
      "cloudloom.dev/kind": "model",
      "cloudloom.dev/name": "intent",
      "cloudloom.dev/version": "1",
    });
    const dlq = only(plan, "aws:sqs/queue:Queue", "batch-mq-intent-v1-central-dlq");
    assert.deepEqual([dlq.sqsManagedSseEnabled, dlq.messageRetentionSeconds], [true, 1_209_600]);
    assert.deepEqual(
      JSON.parse(only(plan, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "batch-mq-intent-v1-central-dlq").redriveAllowPolicy),
      { redrivePermission: "byQueue", sourceQueueArns: [`${ACCOUNT}:batch-mq-intent-v1-central`] },
    );
    // ranker@2 keeps no dead letter, and its attempts take the model default of 1 minute (a 70 s worker).
    const ranker = only(plan, "aws:sqs/queue:Queue", "batch-mq-ranker-v2-central");
    assert.deepEqual([ranker.redrivePolicy, ranker.visibilityTimeoutSeconds, ranker.messageRetentionSeconds], [undefined, 420, 86_400]);
    assert.deepEqual(
      plan.resources.filter((r) => r.type === "aws:sqs/queue:Queue").map((r) => r.name),
      ["batch-mq-intent-v1-central", "batch-mq-intent-v1-central-dlq", "batch-mq-ranker-v2-central"],
      "ranker@1, called only synchronously, has no queue",
    );
  });

  it("maps each queue to its worker's live alias with partial batch responses, the model's batch and its policy's maximum", () => {
    const intent = only(plan, "aws:lambda/eventSourceMapping:EventSourceMapping", "batch-jobs-intent-v1-central-queue");
    assert.deepEqual(
      [intent.eventSourceArn, intent.functionName, intent.batchSize, intent.functionResponseTypes, intent.scalingConfig],
      [
        `${ACCOUNT}:batch-mq-intent-v1-central`,
        "arn:aws:lambda:eu-west-1:123456789012:batch-jobs-intent-v1-central-live",
        10,
        ["ReportBatchItemFailures"],
        { maximumConcurrency: 3 },
      ],
    );
    const ranker = only(plan, "aws:lambda/eventSourceMapping:EventSourceMapping", "batch-jobs-ranker-v2-central-queue");
    assert.deepEqual(
      [ranker.eventSourceArn, ranker.batchSize, ranker.scalingConfig],
      [`${ACCOUNT}:batch-mq-ranker-v2-central`, 10, undefined],
    );
  });

  it("runs each worker on the newest Node.js runtime and the region's runtime layer, its package one call of modelJobsHandler", async () => {
    const worker = only(plan, "aws:lambda/function:Function", "batch-jobs-intent-v1-central");
    assert.deepEqual(
      [worker.runtime, worker.handler, worker.memorySize, worker.timeout, worker.publish, worker.layers],
      ["nodejs24.x", "index.handler", 256, 130, true, ["arn:aws:lambda:eu-west-1:123456789012:batch-central-runtime"]],
    );
    assert.deepEqual(await archiveFiles(worker.code), { "index.js": MODEL_WORKER_SOURCE });
    assert.equal(MODEL_WORKER_SOURCE, 'module.exports.handler = require("cloudloom-runtime").modelJobsHandler();\n');
    const layer = only(plan, "aws:lambda/layerVersion:LayerVersion", "batch-central-runtime");
    assert.match((await archiveFiles(layer.code))["nodejs/node_modules/cloudloom-runtime/index.js"], /modelJobsHandler/);
    assert.deepEqual(only(plan, "aws:lambda/alias:Alias", "batch-jobs-intent-v1-central-live").name, "live");
  });

  it("tells each worker its model version's own endpoint, signed for its service, and the queue's settings and table", () => {
    const config = (name: string) => JSON.parse(only(plan, "aws:lambda/function:Function", name).environment.variables.CLOUDLOOM_RUNTIME);
    const intent = config("batch-jobs-intent-v1-central");
    assert.deepEqual(intent, {
      model: {
        key: "intent@1",
        endpoint: {
          url: "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/batch-intent-v1-central/invocations",
          exact: true,
          sigv4: { service: "sagemaker", region: "eu-west-1" },
        },
      },
      async: {
        settings: {
          retries: 2,
          backoff: { strategy: "exponential", delay: "5 seconds" },
          timeout: "2 minutes",
          deadLetter: true,
          retention: "2 days",
        },
        table: "batch-central-invocations",
      },
    });
    const ranker = config("batch-jobs-ranker-v2-central");
    assert.equal(ranker.model.key, "ranker@2");
    assert.deepEqual(ranker.model.endpoint.sigv4, { service: "execute-api", region: "eu-west-1" });
    assert.match(ranker.model.endpoint.url, /\/models\/ranker-v2$/, "the model API's route of version 2");
    assert.equal(ranker.async.settings.deadLetter, false);
  });

  it("lets each worker invoke exactly its endpoint, work exactly its queue and update exactly the table", () => {
    const intent = statements(plan, "batch-jobs-intent-v1-central-policy");
    assert.deepEqual(intent.slice(1), [
      [["sagemaker:InvokeEndpoint"], ["arn:aws:sagemaker:eu-west-1:123456789012:batch-intent-v1-central"]],
      [
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
        [`${ACCOUNT}:batch-mq-intent-v1-central`],
      ],
      [["dynamodb:UpdateItem"], [TABLE]],
    ]);
    assert.deepEqual(intent[0][0], ["logs:CreateLogStream", "logs:PutLogEvents"]);
    const ranker = statements(plan, "batch-jobs-ranker-v2-central-policy");
    assert.equal(ranker.length, 4);
    assert.deepEqual(ranker[1][0], ["execute-api:Invoke"]);
    assert.equal(ranker[1][1].length, 1);
    assert.match(ranker[1][1][0], /\/\*\/POST\/models\/ranker-v2$/, "version 2's route only, not version 1's");
    assert.deepEqual(ranker[2][1], [`${ACCOUNT}:batch-mq-ranker-v2-central`]);
  });

  it("lets the gateway send to both queues and use the table, and tells it where they are", () => {
    assert.deepEqual(statements(plan, "batch-central-gateway-task").slice(-2), [
      [["sqs:SendMessage"], [`${ACCOUNT}:batch-mq-intent-v1-central`, `${ACCOUNT}:batch-mq-ranker-v2-central`]],
      [["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], [TABLE]],
    ]);
    assert.deepEqual(plan.endpoints.queues, {
      "model:intent@1": {
        kind: "sqs",
        queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/batch-mq-intent-v1-central",
        region: "eu-west-1",
        table: "batch-central-invocations",
      },
      "model:ranker@2": {
        kind: "sqs",
        queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/batch-mq-ranker-v2-central",
        region: "eu-west-1",
        table: "batch-central-invocations",
      },
    });
  });

  it("passes the least-privilege and labels policies", async () => {
    const workers = plan.resources.filter((r) => r.name.startsWith("batch-jobs-") || r.name.startsWith("batch-mq-"));
    assert.ok(workers.length >= 12);
    assert.deepEqual(await evaluatePolicies(toPolicyResources(workers), {}, [leastPrivilege, cloudloomLabels]), []);
  });
});
