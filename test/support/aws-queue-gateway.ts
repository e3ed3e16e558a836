/**
 * A gateway of an AWS stack in front of the SQS and DynamoDB stand-in
 * (aws-queue-stub.ts): every asynchronous entry's jobs go to the stub's
 * queue and table, signed with the test credentials, and a drain delivers
 * the queue's batches to a worker as an event source mapping would.
 */
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { remoteQueues, type RemoteQueues } from "../../cli/remote-queues";
import { parseSettings } from "../../gateway/config";
import type { SqsBatchResponse, SqsEvent } from "../../runtime/serverless/sqs-jobs";
import { asyncEntries, type EndpointsMap, type SpecV1 } from "../../sdk";
import type { AwsQueueStub } from "./aws-queue-stub";
import { TEST_CREDENTIALS } from "./sigv4";

/** The environment of the gateway and the workers: the test credentials, in the stub's region. */
export const AWS_TEST_ENV = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
  AWS_REGION: "eu-west-1",
};

/** The invocation table every entry's jobs are recorded in. */
export const TEST_TABLE = "shop-invocations";

/** The gateway of an AWS stack for `spec`, with `apiKeys` (and more `settings`), submitting every asynchronous entry's jobs to the stub. */
export async function awsQueueGateway(
  spec: SpecV1,
  stub: AwsQueueStub,
  apiKeys: string[],
  settings: Record<string, unknown> = {},
): Promise<{ gateway: ComposedGateway; queues: RemoteQueues; base: string }> {
  const byRegion = (regions: string[]) => Object.fromEntries(regions.map((region) => [region, "http://127.0.0.1:9"]));
  const queue = {
    kind: "sqs" as const,
    queueUrl: stub.queueUrl,
    region: AWS_TEST_ENV.AWS_REGION,
    table: TEST_TABLE,
    sqsEndpoint: stub.url,
    dynamodbEndpoint: stub.url,
  };
  const endpoints: EndpointsMap = {
    functions: Object.fromEntries(Object.entries(spec.functions).map(([name, fn]) => [name, byRegion(fn.regions)])),
    models: Object.fromEntries(Object.entries(spec.models).map(([key, model]) => [key, byRegion(model.regions)])),
    queues: Object.fromEntries([...asyncEntries(spec).keys()].map((key) => [key, queue])),
  };
  const parsed = parseSettings({ apiKeys, ...settings });
  const logger = pino({ level: "silent" });
  const queues = remoteQueues(() => ({ spec, endpoints }), parsed, logger, AWS_TEST_ENV);
  const gateway = composeGateway({
    spec,
    settings: parsed,
    source: { kind: "remote", endpoints },
    logger,
    queues: queues.queueFor,
    env: AWS_TEST_ENV,
  });
  return { gateway, queues, base: `http://127.0.0.1:${(await gateway.gateway.listen(0)).port}` };
}

/** Delivers batches to `worker` as the event source mapping would, until the queue is empty (waiting out backoffs). */
export async function drainQueue(stub: AwsQueueStub, worker: (event: SqsEvent) => Promise<SqsBatchResponse>): Promise<void> {
  while (stub.messages.length > 0) {
    const event = stub.receive();
    if (event.Records.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    stub.settle(event, await worker(event));
  }
}
