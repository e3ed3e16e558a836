import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";

const only = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}; have ${plan.resources.filter((r) => r.type === type).map((r) => r.name)}`);
  return found[0].inputs;
};
const statements = (plan: Plan, name: string): Array<[string[], string[]]> =>
  JSON.parse(only(plan, "aws:iam/rolePolicy:RolePolicy", name).policy).Statement.map((s: any) => [s.Action, s.Resource]);

describe("AWS: the example's asynchronous backlog route (SQS, dead letter, event source mapping, DynamoDB, IAM; under mocks)", () => {
  let plan: Plan;
  before(async () => {
    plan = await planApp("examples/support-desk", "aws", stackConfig("aws"));
  });

  it("queues the function's jobs in its home region, encrypted, kept for the retention, hidden six timeouts at a time", () => {
    const queue = only(plan, "aws:sqs/queue:Queue", "support-desk-q-reclassify-central");
    assert.deepEqual(
      [queue.sqsManagedSseEnabled, queue.messageRetentionSeconds, queue.visibilityTimeoutSeconds, queue.maxMessageSize],
      [true, 86_400, 720, 262_144],
    );
    assert.ok(!plan.resources.some((r) => r.type === "aws:sqs/queue:Queue" && r.name.includes("edge-berlin")), "one queue, central");
  });

  it("moves a job that failed its first attempt and every retry to a dead-letter queue only that queue may redrive into", () => {
    const queue = only(plan, "aws:sqs/queue:Queue", "support-desk-q-reclassify-central");
    assert.deepEqual(JSON.parse(queue.redrivePolicy), {
      deadLetterTargetArn: "arn:aws:sqs:eu-west-1:123456789012:support-desk-q-reclassify-central-dlq",
      maxReceiveCount: 4,
    });
    const dlq = only(plan, "aws:sqs/queue:Queue", "support-desk-q-reclassify-central-dlq");
    assert.deepEqual([dlq.sqsManagedSseEnabled, dlq.messageRetentionSeconds], [true, 1_209_600]);
    assert.deepEqual(
      JSON.parse(only(plan, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "support-desk-q-reclassify-central-dlq").redriveAllowPolicy),
      {
        redrivePermission: "byQueue",
        sourceQueueArns: ["arn:aws:sqs:eu-west-1:123456789012:support-desk-q-reclassify-central"],
      },
    );
  });

  it("maps the queue to the function's live alias with partial batch responses and the policy's maximum concurrency", () => {
    const mapping = only(plan, "aws:lambda/eventSourceMapping:EventSourceMapping", "support-desk-fn-reclassify-central-queue");
    assert.deepEqual(
      [mapping.eventSourceArn, mapping.functionName, mapping.batchSize, mapping.functionResponseTypes, mapping.scalingConfig],
      [
        "arn:aws:sqs:eu-west-1:123456789012:support-desk-q-reclassify-central",
        "arn:aws:lambda:eu-west-1:123456789012:support-desk-fn-reclassify-central-live",
        4,
        ["ReportBatchItemFailures"],
        { maximumConcurrency: 4 },
      ],
    );
    // The synchronous function has no queue and no mapping.
    assert.equal(plan.resources.filter((r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping").length, 1);
  });

  it("records invocations in an encrypted on-demand table that expires them, and tells the function and the gateway where", () => {
    const table = only(plan, "aws:dynamodb/table:Table", "support-desk-central-invocations");
    assert.deepEqual(
      [table.hashKey, table.attributes, table.billingMode, table.ttl, table.serverSideEncryption],
      ["id", [{ name: "id", type: "S" }], "PAY_PER_REQUEST", { attributeName: "expiresAt", enabled: true }, { enabled: true }],
    );
    const fn = only(plan, "aws:lambda/function:Function", "support-desk-fn-reclassify-central");
    assert.deepEqual(JSON.parse(fn.environment.variables.CLOUDLOOM_RUNTIME).async, {
      settings: {
        backoff: { delay: "2 seconds", strategy: "exponential" },
        deadLetter: true,
        retention: "1 day",
        retries: 3,
        timeout: "2 minutes",
      },
      table: "support-desk-central-invocations",
    });
    assert.equal(
      JSON.parse(only(plan, "aws:lambda/function:Function", "support-desk-fn-classify-central").environment.variables.CLOUDLOOM_RUNTIME)
        .async,
      undefined,
    );
    assert.deepEqual(plan.endpoints.queues, {
      "function:reclassify": {
        kind: "sqs",
        queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/support-desk-q-reclassify-central",
        region: "eu-west-1",
        table: "support-desk-central-invocations",
      },
    });
  });

  it("lets the function receive from exactly its queue and update exactly its table, and the gateway send and read exactly those", () => {
    assert.deepEqual(statements(plan, "support-desk-fn-reclassify-central-policy").slice(-2), [
      [
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
        ["arn:aws:sqs:eu-west-1:123456789012:support-desk-q-reclassify-central"],
      ],
      [["dynamodb:UpdateItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:support-desk-central-invocations"]],
    ]);
    assert.ok(
      !JSON.stringify(statements(plan, "support-desk-fn-classify-central-policy")).includes("sqs:"),
      "no queue for the synchronous function",
    );
    // The Berlin edge is a Wavelength Zone: its gateway runs on the zone's nodes and serves that region's routes only.
    for (const region of ["central"])
      assert.deepEqual(statements(plan, `support-desk-${region}-gateway-task`).slice(-2), [
        [["sqs:SendMessage"], ["arn:aws:sqs:eu-west-1:123456789012:support-desk-q-reclassify-central"]],
        [
          ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
          ["arn:aws:dynamodb:eu-west-1:123456789012:support-desk-central-invocations"],
        ],
      ]);
  });
});
