/**
 * Asynchronous model versions on AWS: a job worker per queued model version,
 * in the entry's home region. The worker is a small Lambda function on the
 * region's cloudloom runtime layer whose whole package is one call of the
 * layer's `modelJobsHandler` (runtime/serverless/model-jobs.ts): its SQS
 * queue (queues.ts) delivers batches to its `live` alias through an event
 * source mapping with partial batch responses (at most the model's scaling
 * policy's maximum at once), and each job is one signed call of the model
 * version's own endpoint: SageMaker's InvokeEndpoint for a CPU model, the
 * IAM-guarded model API in front of its EKS model server for a GPU one. Its
 * role may invoke exactly that endpoint, receive from exactly that queue and
 * update exactly the invocation table, and write its own logs. With tracing
 * (`cloudloom:tracing`), it is traced as the app's functions are: the plain
 * OTEL_* variables, and the export headers in a Secrets Manager secret of its
 * own that its role may read; each job's span continues the trace of the
 * request that queued it.
 */
import * as pulumi from "@pulumi/pulumi";
import { RolePolicy } from "@pulumi/aws/iam";
import {
  asyncEntries,
  awsModelWorkerTimeoutSeconds,
  toSeconds,
  type AsyncSpec,
  type Endpoint,
  type ModelSpec,
  type ScalingPolicySpec,
} from "../../sdk/spec";
import { MODEL_JOBS_ADAPTER, RUNTIME_ENV, SERVERLESS_RUNTIME_MODULE } from "../../runtime/contract";
import { lambdaArchive } from "../shared/bundle";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import type { TracingSettings } from "../shared/tracing";
import type { AwsContext, PlacedQueue, ServedModel } from "./context";
import { lambdaRoleAndLogs, lambdaSecrets, lambdaTracing, liveLambda, runtimeLayerIn } from "./function";
import { functionPolicy } from "./iam";
import { mapQueue, queueBatchSize } from "./queues";

/** A job worker's memory: it only waits on the model's answer, so Lambda's smallest size that keeps a Node process comfortable. */
export const MODEL_WORKER_MEMORY_MB = 256;

/** The whole package of every job worker: the layer's handler, built at cold start from CLOUDLOOM_RUNTIME. */
export const MODEL_WORKER_SOURCE = `module.exports.handler = require(${JSON.stringify(SERVERLESS_RUNTIME_MODULE)}).${MODEL_JOBS_ADAPTER}();\n`;

/** Inputs of one model version's job worker. */
export interface ModelJobWorkerArgs {
  app: string;
  model: ModelSpec;
  /** The entry's asynchronous settings. */
  settings: AsyncSpec;
  /** The model's scaling policy, whose maximum bounds the worker's concurrency. */
  scaling?: ScalingPolicySpec;
  /** ARN of the region's cloudloom runtime layer. */
  runtimeLayer: pulumi.Input<string>;
  /** Where the model version is served in the home region, and how calls to it are authorized. */
  served: ServedModel;
  queue: PlacedQueue;
  /** Days of logs to keep. @default 14 */
  logRetentionDays?: number;
  /** Where the worker exports its spans, as the app's functions do. @default no tracing */
  tracing?: TracingSettings;
}

/** A model version's job worker, typed `cloudloom:aws:ModelJobWorker`. */
export class ModelJobWorker extends pulumi.ComponentResource {
  /** ARN of the `live` alias the queue's mapping delivers to. */
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: ModelJobWorkerArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:ModelJobWorker", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const key = `${args.model.name}@${args.model.version}`;
    const tags = entryLabels(args.app, "model", args.model.name, { "cloudloom.dev/version": args.model.version });
    const { role, logGroup } = lambdaRoleAndLogs(name, tags, args.logRetentionDays, child);
    const { access } = args.served;
    // Traced as the app's functions are: the plain OTEL_* variables, the export headers in a secret of its own.
    const traced = lambdaTracing(args.tracing, args.app);
    const kept = lambdaSecrets(name, `cloudloom model job worker secrets (${args.app}, ${name})`, traced.secrets, tags, child);
    const rolePolicy = new RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi
          .all([logGroup.arn, access.arn, args.queue.queueArn, args.queue.tableArn, kept ? [kept.secret.arn] : []])
          .apply(([logArn, endpointArn, queueArn, tableArn, secretArns]) =>
            functionPolicy(
              logArn,
              {
                sagemakerEndpointArns: access.kind === "sagemaker" ? [endpointArn] : [],
                executeApiArns: access.kind === "execute-api" ? [endpointArn] : [],
              },
              secretArns,
              { queueArn, tableArn },
            ),
          ),
      },
      child,
    );
    const { alias } = liveLambda(
      name,
      {
        role,
        logGroup,
        code: lambdaArchive({ "index.js": MODEL_WORKER_SOURCE }),
        runtimeLayer: args.runtimeLayer,
        memorySize: MODEL_WORKER_MEMORY_MB,
        timeout: awsModelWorkerTimeoutSeconds(toSeconds(args.settings.timeout)),
        variables: {
          ...traced.environment,
          [RUNTIME_ENV.serverlessConfig]: pulumi
            .all([args.served.endpoint, args.queue.tableName])
            .apply(([endpoint, table]) => modelJobsConfig(key, endpoint, args.settings, table)),
          ...(kept ? { [RUNTIME_ENV.secretsArn]: kept.secret.arn } : {}),
        },
        tags,
      },
      child,
      [rolePolicy, ...(kept ? [kept.version] : [])],
    );
    mapQueue(name, args.queue, alias.arn, queueBatchSize(args.model.batching.maxBatchSize), args.scaling, tags, {
      ...child,
      dependsOn: [rolePolicy],
    });
    this.arn = alias.arn;
    this.registerOutputs({ arn: this.arn });
  }
}

/** A job worker's `CLOUDLOOM_RUNTIME` (runtime/serverless/model-jobs.ts reads it). */
export function modelJobsConfig(key: string, endpoint: Endpoint, settings: AsyncSpec, table: string): string {
  return JSON.stringify({ model: { key, endpoint }, async: { settings, table } });
}

/** The model job workers step: a worker per model version an asynchronous route queues, in its home region. */
export function placeModelJobWorkers(context: AwsContext): void {
  const { spec, name, parent } = context;
  for (const [key, entry] of asyncEntries(spec)) {
    if (entry.kind !== "model") continue;
    const model = spec.models[entry.name];
    // Validation (CL_ASYNC_MODEL_HOST) keeps a model whose home is a Wavelength Zone off the queues: it has no endpoint here.
    const served = context.models.get(`${entry.name}/${entry.region}`)!;
    const worker = new ModelJobWorker(
      resourceName(name, "jobs", modelPart(model.name, model.version), entry.region),
      {
        app: spec.app,
        model,
        settings: entry.settings,
        scaling: model.scaling ? spec.scalingPolicies[model.scaling] : undefined,
        runtimeLayer: runtimeLayerIn(context, entry.region),
        served,
        queue: context.queues.get(key)!,
        logRetentionDays: context.args.logRetentionDays,
        tracing: context.args.tracing,
      },
      { parent, provider: context.regions.get(entry.region)!.provider },
    );
    // The gateway learns of the queue once a worker works it (so a deployment never queues jobs nothing takes).
    const queues = context.endpoints.queues!;
    queues[key] = pulumi.all([queues[key], worker.arn]).apply(([endpoint]) => endpoint);
  }
}
