/** Least-privilege IAM documents: every statement names its actions and its resources. */

/** ARN prefix of AWS-managed policies. */
export const MANAGED_POLICY = "arn:aws:iam::aws:policy";

/** One permission: these actions on these resources. */
export interface Grant {
  actions: string[];
  resources: string[];
}

/** A policy document of grants; grants with no resources are left out. */
export function policyDocument(grants: Grant[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: grants.filter((g) => g.resources.length > 0).map((g) => ({ Effect: "Allow", Action: g.actions, Resource: g.resources })),
  });
}

/** A trust policy letting `service` assume the role. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** Read access to exactly these S3 objects. */
export function readObjectsPolicy(objectArns: string[]): string {
  return policyDocument([{ actions: ["s3:GetObject"], resources: objectArns }]);
}

/** The model endpoints a function calls, by how they are authorized. */
export interface ModelAccess<T> {
  /** SageMaker endpoints (CPU models). */
  sagemakerEndpointArns: T[];
  /** API Gateway routes in front of model servers on EKS (GPU models). */
  executeApiArns: T[];
}

/** The queue an asynchronous function works and the table it records invocations in. */
export interface QueueAccess {
  queueArn: string;
  tableArn: string;
}

/** What a queue's event source mapping needs of its function's role, and what the Lambda adapter does itself. */
export const QUEUE_WORKER_ACTIONS = {
  sqs: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
  dynamodb: ["dynamodb:UpdateItem"],
} as const;

/** What a gateway does with a queue and its table: send jobs, record and read invocations (and forget one it could not send). */
export const QUEUE_SUBMITTER_ACTIONS = {
  sqs: ["sqs:SendMessage"],
  dynamodb: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
} as const;

/**
 * What a function's role may do: write its own logs, call the model endpoints it declared, read
 * exactly its own secret (`secretArns`: the Secrets Manager secret holding its declared secrets, if any),
 * and, when it works an asynchronous entry's queue, receive from exactly that queue and update exactly its table.
 */
export function functionPolicy(logGroupArn: string, models: ModelAccess<string>, secretArns: string[] = [], queue?: QueueAccess): string {
  return policyDocument([
    { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroupArn}:*`] },
    { actions: ["sagemaker:InvokeEndpoint"], resources: models.sagemakerEndpointArns },
    { actions: ["execute-api:Invoke"], resources: models.executeApiArns },
    { actions: ["secretsmanager:GetSecretValue"], resources: secretArns },
    { actions: [...QUEUE_WORKER_ACTIONS.sqs], resources: queue ? [queue.queueArn] : [] },
    { actions: [...QUEUE_WORKER_ACTIONS.dynamodb], resources: queue ? [queue.tableArn] : [] },
  ]);
}

/** The backends a gateway calls: exactly the app's Function URLs (their `live` aliases) and model APIs, and its queues. */
export interface GatewayAccess<T> extends ModelAccess<T> {
  /** ARNs of the function aliases whose Function URLs the gateway calls. */
  functionArns: T[];
  /** The asynchronous entries' SQS queues the gateway sends jobs to. */
  queueArns?: T[];
  /** The DynamoDB tables it records and reads their invocations in. */
  tableArns?: T[];
}

/** What a gateway's task role may do: sign calls to exactly these backends and queues, and nothing else. */
export function gatewayTaskPolicy(access: GatewayAccess<string>): string {
  const unique = (values: string[] = []) => [...new Set(values)].sort();
  return policyDocument([
    { actions: ["lambda:InvokeFunctionUrl"], resources: unique(access.functionArns) },
    { actions: ["sagemaker:InvokeEndpoint"], resources: unique(access.sagemakerEndpointArns) },
    { actions: ["execute-api:Invoke"], resources: unique(access.executeApiArns) },
    { actions: [...QUEUE_SUBMITTER_ACTIONS.sqs], resources: unique(access.queueArns) },
    { actions: [...QUEUE_SUBMITTER_ACTIONS.dynamodb], resources: unique(access.tableArns) },
  ]);
}

/** The ECR repository ARN of an ECR image URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`), else undefined. */
export function ecrRepositoryArn(image: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  return match ? `arn:aws:ecr:${match[2]}:${match[1]}:repository/${match[3]}` : undefined;
}

/**
 * What ECS may do when it starts a gateway task: write its log group, read
 * exactly its secrets, and pull its image when that is in ECR
 * (`ecr:GetAuthorizationToken` has no resource-level permissions).
 */
export function gatewayExecutionPolicy(logGroupArn: string, secretArns: string[], image: string): string {
  const repository = ecrRepositoryArn(image);
  return policyDocument([
    { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroupArn}:*`] },
    { actions: ["secretsmanager:GetSecretValue"], resources: secretArns },
    ...(repository
      ? [
          { actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
          { actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resources: [repository] },
        ]
      : []),
  ]);
}
