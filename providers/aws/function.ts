/**
 * One function in one AWS region: a Lambda function published behind a
 * `live` alias, a least-privilege role, a log group with retention, a
 * Function URL that only accepts SigV4-signed calls, and, from the scaling
 * policy, provisioned concurrency with target tracking and scheduled floors,
 * each raised at its start and set back to the policy's minimum at its end.
 *
 * An asynchronous function works its SQS queue (queues.ts) in its home
 * region: an event source mapping delivers batches to the `live` alias with
 * partial batch responses, at most the scaling policy's maximum at once, and
 * its role may receive from exactly that queue and update exactly its
 * invocation table.
 *
 * The function's declared secrets never sit in its configuration: they are
 * kept, as one JSON object, in a Secrets Manager secret of the function's
 * own; the function gets only that secret's ARN (`CLOUDLOOM_SECRETS_ARN`),
 * its role may read exactly that secret, and the runtime reads it at cold
 * start (runtime/serverless/aws-secrets.ts). So are the tracing collector's
 * export headers (`cloudloom:tracingHeaders`), beside the plain OTEL_* variables,
 * and the token of a function's reports of its calls to held EKS models
 * (demand-token.ts), beside its gateway's report URL.
 */
import * as pulumi from "@pulumi/pulumi";
import { ScheduledAction, Target as ScalableTarget } from "@pulumi/aws/appautoscaling";
import { LogGroup } from "@pulumi/aws/cloudwatch";
import { Role, RolePolicy } from "@pulumi/aws/iam";
import type { Secret, SecretVersion } from "@pulumi/aws/secretsmanager";
import { Alias, Function as LambdaFunction, FunctionUrl, LayerVersion, ProvisionedConcurrencyConfig } from "@pulumi/aws/lambda";
import {
  asyncEntries,
  asyncEntryKey,
  FUNCTION_RUNTIMES,
  toMegabytes,
  toSeconds,
  type FunctionSpec,
  type ScalingPolicySpec,
} from "../../sdk/spec";
import { handlerPackages, lambdaArchive, runtimePackage } from "../shared/bundle";
import { recordEndpoint } from "../shared/endpoints";
import { functionEnvironment } from "../shared/function-env";
import { tracingEnvironment, TRACING_HEADERS_ENV, type TracingSettings } from "../shared/tracing";
import { RUNTIME_ENV } from "../../runtime/contract";
import { endCron } from "../shared/cron";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { CloudWatchSource } from "./alerts";
import { signed, type AwsContext, type PlacedQueue, type ServedModel } from "./context";
import { toAwsCron } from "./cron";
import { demandReport } from "./demand-token";
import { demandGateways } from "./gateway";
import { trackTarget } from "./autoscaling";
import { assumeRolePolicy, functionPolicy, type ModelAccess } from "./iam";
import { keptSecret } from "./kept-secret";
import { wavelengthRegions } from "./networks";
import { mapQueue, queueBatchSize } from "./queues";

/** Inputs of one function in one region. */
export interface AwsFunctionArgs {
  app: string;
  /** The function's spec name. */
  entry: string;
  spec: FunctionSpec;
  scaling?: ScalingPolicySpec;
  /** The bundled handler. */
  code: pulumi.Input<pulumi.asset.Archive>;
  /** ARN of the region's cloudloom runtime layer, which the handler requires. */
  runtimeLayer: pulumi.Input<string>;
  /** Plain environment: no secret values (those go in `secrets`). */
  environment: Record<string, pulumi.Input<string>>;
  /**
   * The function's declared secrets, by variable name (values as Pulumi secrets): kept in a Secrets
   * Manager secret of the function's own, which the runtime reads at cold start.
   */
  secrets?: Record<string, pulumi.Input<string>>;
  /** The model endpoints the function may invoke. */
  modelAccess: ModelAccess<pulumi.Input<string>>;
  /** The queue the function works, when it is asynchronous and this is its home region. */
  queue?: PlacedQueue;
  /** Days of logs to keep. @default 14 */
  logRetentionDays?: number;
}

/** The Node.js runtime of every function and of the runtime layer: the newest Lambda offers. */
export const LAMBDA_RUNTIME = FUNCTION_RUNTIMES.aws.newest;

/** The alias every function's URL and provisioned concurrency serve. */
export const LIVE_ALIAS = "live";

/** Target utilization of provisioned concurrency when the policy states concurrency, not utilization. */
const DEFAULT_UTILIZATION = 0.7;

/** A Lambda function and everything around it, typed `cloudloom:aws:Function`. */
export class AwsFunction extends pulumi.ComponentResource {
  /** The Function URL (AWS_IAM auth: callers sign with SigV4). */
  readonly url: pulumi.Output<string>;
  /** ARN of the `live` alias the URL serves, for callers' `lambda:InvokeFunctionUrl`. */
  readonly arn: pulumi.Output<string>;
  /** Where CloudWatch keeps the function's metrics and logs. */
  readonly metrics: CloudWatchSource;

  constructor(name: string, args: AwsFunctionArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:Function", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "function", args.entry);
    const { role, logGroup } = lambdaRoleAndLogs(name, tags, args.logRetentionDays, child);
    const secretVariables = Object.keys(args.secrets ?? {});
    const kept = lambdaSecrets(name, `cloudloom function secrets (${args.app}, ${name})`, args.secrets ?? {}, tags, child);
    const rolePolicy = new RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        // One `all` unwraps the ARN lists too: no Output of their own per function.
        policy: pulumi
          .all([
            logGroup.arn,
            args.modelAccess.sagemakerEndpointArns,
            args.modelAccess.executeApiArns,
            kept ? [kept.secret.arn] : [],
            args.queue ? { queueArn: args.queue.queueArn, tableArn: args.queue.tableArn } : undefined,
          ])
          .apply(([arn, sagemakerEndpointArns, executeApiArns, secretArns, queue]) =>
            functionPolicy(arn, { sagemakerEndpointArns, executeApiArns }, secretArns, queue),
          ),
      },
      child,
    );
    for (const variable of secretVariables)
      if (variable in args.environment)
        throw new Error(`function ${args.entry}: ${variable} is a secret and may not also be a plain environment variable`);
    const variables: Record<string, pulumi.Input<string>> = kept
      ? { ...args.environment, [RUNTIME_ENV.secretsArn]: kept.secret.arn }
      : args.environment;
    const { fn, alias } = liveLambda(
      name,
      {
        role,
        logGroup,
        code: args.code,
        runtimeLayer: args.runtimeLayer,
        memorySize: toMegabytes(args.spec.memory),
        timeout: Math.ceil(toSeconds(args.spec.timeout)),
        variables,
        tags,
      },
      child,
      [rolePolicy, ...(kept ? [kept.version] : [])],
    );
    if (args.scaling) this.scale(name, args.scaling, alias, tags, child);
    if (args.queue)
      mapQueue(name, args.queue, alias.arn, queueBatchSize(args.spec.concurrency), args.scaling, tags, {
        ...child,
        dependsOn: [rolePolicy],
      });
    const url = new FunctionUrl(
      `${name}-url`,
      { functionName: name, qualifier: LIVE_ALIAS, authorizationType: "AWS_IAM" },
      { ...child, dependsOn: [alias] },
    );
    this.url = url.functionUrl;
    this.arn = alias.arn;
    this.metrics = { kind: "lambda", functionName: fn.name, logGroup: logGroup.name };
    this.registerOutputs({ url: this.url, arn: this.arn });
  }

  private scale(
    name: string,
    policy: ScalingPolicySpec,
    alias: Alias,
    tags: Record<string, string>,
    child: pulumi.CustomResourceOptions,
  ): void {
    const floor = policy.scaleToZero ? 0 : policy.minInstances;
    const provisioned =
      floor > 0
        ? [
            new ProvisionedConcurrencyConfig(
              `${name}-provisioned`,
              { functionName: name, qualifier: LIVE_ALIAS, provisionedConcurrentExecutions: floor },
              { ...child, dependsOn: [alias] },
            ),
          ]
        : [];
    const dimension = {
      serviceNamespace: "lambda",
      scalableDimension: "lambda:function:ProvisionedConcurrency",
      resourceId: `function:${name}:${LIVE_ALIAS}`,
    };
    const target = new ScalableTarget(
      `${name}-scaling`,
      { ...dimension, minCapacity: floor, maxCapacity: policy.maxInstances, tags },
      { ...child, dependsOn: [alias, ...provisioned] },
    );
    trackTarget(
      name,
      target,
      "LambdaProvisionedConcurrencyUtilization",
      policy.targetUtilization !== undefined ? policy.targetUtilization / 100 : DEFAULT_UTILIZATION,
      child,
      dimension,
    );
    // Each floor is a pair: raise the minimum at its start, and restore the
    // policy's own bounds at its end (AWS keeps a scheduled minimum forever).
    const scheduled = (actionName: string, cron: string, timezone: string, minCapacity: number): ScheduledAction =>
      new ScheduledAction(
        actionName,
        {
          name: actionName,
          ...dimension,
          schedule: toAwsCron(cron),
          timezone,
          scalableTargetAction: { minCapacity, maxCapacity: policy.maxInstances },
        },
        { ...child, dependsOn: [target] },
      );
    policy.schedules.forEach((schedule, index) => {
      scheduled(`${name}-floor-${index}`, schedule.cron, schedule.timezone, schedule.minInstances);
      scheduled(`${name}-floor-${index}-end`, endCron(schedule), schedule.timezone, floor);
    });
  }
}

/** A Lambda function's role (which Lambda may assume) and its log group, kept `retentionDays` (default 14). */
export function lambdaRoleAndLogs(
  name: string,
  tags: Record<string, string>,
  retentionDays: number | undefined,
  child: pulumi.CustomResourceOptions,
): { role: Role; logGroup: LogGroup } {
  const role = new Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com"), tags }, child);
  const logGroup = new LogGroup(`${name}-logs`, { name: `/aws/lambda/${name}`, retentionInDays: retentionDays ?? 14, tags }, child);
  return { role, logGroup };
}

/**
 * The Secrets Manager secret of a Lambda function's own holding `secrets`
 * (variable name to value, Pulumi secrets) as one JSON object, and its
 * version; none when there is nothing to keep. The function is given the
 * secret's ARN (`CLOUDLOOM_SECRETS_ARN`), its role may read exactly that
 * secret, and the runtime reads it at cold start.
 */
export function lambdaSecrets(
  name: string,
  description: string,
  secrets: Record<string, pulumi.Input<string>>,
  tags: Record<string, string>,
  child: pulumi.CustomResourceOptions,
): { secret: Secret; version: SecretVersion } | undefined {
  if (Object.keys(secrets).length === 0) return undefined;
  return keptSecret(
    `${name}-secrets`,
    { description, tags },
    pulumi.secret(pulumi.all(secrets).apply((values) => JSON.stringify(Object.fromEntries(Object.entries(values).sort())))),
    child,
  );
}

/**
 * What a Lambda function of `app` is given to trace (none without tracing):
 * the plain OTEL_* variables, and the collector's export headers (an API
 * key) to keep with its secrets (lambdaSecrets), never in its configuration.
 * Functions and model job workers both trace with it.
 */
export function lambdaTracing(
  tracing: TracingSettings | undefined,
  app: string,
): { environment: Record<string, string>; secrets: Record<string, pulumi.Input<string>> } {
  return {
    environment: tracingEnvironment(tracing, app),
    secrets: tracing?.headers ? { [TRACING_HEADERS_ENV]: tracing.headers } : {},
  };
}

/** What a Lambda function on the runtime layer is made of (see liveLambda). */
export interface LiveLambdaArgs {
  role: Role;
  logGroup: LogGroup;
  /** Its package: the handler alone, the runtime comes from the layer. */
  code: pulumi.Input<pulumi.asset.Archive>;
  runtimeLayer: pulumi.Input<string>;
  memorySize: number;
  timeout: number;
  variables: Record<string, pulumi.Input<string>>;
  tags: Record<string, string>;
}

/**
 * A Lambda function named `name` on the region's runtime layer (the newest
 * Node runtime, JSON logs into `logGroup`), published, and its `live` alias,
 * which callers, scalers and queue mappings address: what a function and a
 * model job worker both are, returned with the function. The function waits for its log group and for
 * `dependsOn` (its role's policy, its secrets).
 */
export function liveLambda(
  name: string,
  args: LiveLambdaArgs,
  child: pulumi.CustomResourceOptions,
  dependsOn: pulumi.Resource[],
): { fn: LambdaFunction; alias: Alias } {
  const fn = new LambdaFunction(
    name,
    {
      name,
      role: args.role.arn,
      runtime: LAMBDA_RUNTIME,
      handler: "index.handler",
      code: args.code,
      layers: [args.runtimeLayer],
      memorySize: args.memorySize,
      timeout: args.timeout,
      publish: true,
      environment: { variables: args.variables },
      loggingConfig: { logFormat: "JSON", logGroup: args.logGroup.name },
      tags: args.tags,
    },
    { ...child, dependsOn: [...dependsOn, args.logGroup] },
  );
  // The function's and its alias's names are known now: plain values, with the order kept by
  // dependsOn (an Output per such input was a tenth of a 1,000-function plan's time).
  return { fn, alias: new Alias(`${name}-live`, { name: LIVE_ALIAS, functionName: name, functionVersion: fn.version }, child) };
}

/** The runtime layer's archive of each app being built: bundled once, shared by the layers of its regions. */
const runtimeArchives = new WeakMap<AwsContext, pulumi.Output<pulumi.asset.AssetArchive>>();

/** The cloudloom runtime layer of `region` (created on first use, once per region), which functions and model job workers require. */
export function runtimeLayerIn(context: AwsContext, region: string): pulumi.Output<string> {
  let arn = context.runtimeLayers.get(region);
  if (!arn) {
    let code = runtimeArchives.get(context);
    if (!code) runtimeArchives.set(context, (code = runtimePackage(lambdaArchive)));
    const layerName = resourceName(context.name, region, "runtime");
    arn = new LayerVersion(
      layerName,
      { layerName, code, compatibleRuntimes: [LAMBDA_RUNTIME], description: "cloudloom serverless runtime" },
      { parent: context.parent, provider: context.regions.get(region)!.provider },
    ).arn;
    context.runtimeLayers.set(region, arn);
  }
  return arn;
}

/** The model version a function in `region` calls: the one in its own region, else the first region serving it. */
function servedFor(context: AwsContext, key: string, region: string): ServedModel {
  const here = context.models.get(`${key}/${region}`);
  return here ?? context.models.get(`${key}/${context.spec.models[key].regions[0]}`)!;
}

/** The functions step: the runtime layer once per region, and a Lambda function per function per region. */
export function placeFunctions(context: AwsContext): void {
  const { spec, args, name, parent } = context;
  if (Object.keys(spec.functions).length === 0) return;
  const handlers = handlerPackages(args.root, spec.functions, "lambda", lambdaArchive);
  const zones = new Set(wavelengthRegions(spec));
  const queued = asyncEntries(spec);
  for (const [fnName, fn] of Object.entries(spec.functions)) {
    const code = handlers(fnName);
    // Wavelength regions run functions as containers on the zone's nodes (edge-zone.ts).
    for (const region of fn.regions.filter((r) => !zones.has(r))) {
      const { provider, awsRegion } = context.regions.get(region)!;
      const access = fn.models.map((key) => servedFor(context, key, region).access);
      const placed = context.queues.get(asyncEntryKey("function", fnName));
      const queue = placed?.region === region ? placed : undefined;
      // The adapter records the queue's invocations in its table, with the entry's settings.
      const settings = queued.get(asyncEntryKey("function", fnName))?.settings;
      const runtime = queue && settings ? queue.tableName.apply((table) => ({ async: { settings, table } })) : {};
      const traced = lambdaTracing(args.tracing, spec.app);
      // Calls to a holding model on EKS are reported to the region's gateway, with a token kept among the secrets.
      const reports = demandReport(context, fnName, region, () => demandGateways(context));
      // The shared environment resolves secrets too; on AWS they go to Secrets Manager, not the function's configuration.
      const environment = functionEnvironment(
        spec,
        fnName,
        region,
        args.secrets,
        (key) => servedFor(context, key, region).endpoint,
        { ...traced.environment, ...reports.environment },
        runtime,
      );
      // The collector's headers (an API key) are kept with the declared secrets; the runtime starts tracing once it read them.
      const secrets: Record<string, pulumi.Input<string>> = { ...traced.secrets, ...reports.secrets };
      for (const [variable, value] of Object.entries(fn.environment))
        if (typeof value !== "string") {
          secrets[variable] = environment[variable];
          delete environment[variable];
        }
      const created = new AwsFunction(
        resourceName(name, "fn", fnName, region),
        {
          app: spec.app,
          entry: fnName,
          spec: fn,
          scaling: fn.scaling ? spec.scalingPolicies[fn.scaling] : undefined,
          code,
          runtimeLayer: runtimeLayerIn(context, region),
          environment,
          secrets,
          modelAccess: {
            sagemakerEndpointArns: access.filter((a) => a.kind === "sagemaker").map((a) => a.arn),
            executeApiArns: access.filter((a) => a.kind === "execute-api").map((a) => a.arn),
          },
          queue,
          logRetentionDays: args.logRetentionDays,
        },
        { parent, provider },
      );
      context.functions.set(`${fnName}/${region}`, created.arn);
      context.monitored.set(`${fnName}/${region}`, created.metrics);
      recordEndpoint(context.endpoints.functions, fnName, region, signed(created.url, "lambda", awsRegion));
    }
  }
}
