/**
 * One function in one Alibaba Cloud region: an FC 3.0 function on the
 * nodejs20 runtime running the bundled handler, sized from the spec,
 * published behind `live`, reachable only with the gateway's JWT, and
 * provisioned from its scaling policy. A function that calls models signs
 * their JWTs with the gateway's key; that key and the function's declared
 * secrets it reads from the region's KMS secrets at cold start, with a RAM
 * role of its own that may read exactly those; its configuration holds only
 * their names. A function calling a held model on ACK reports its calls to
 * the gateway with a token read the same way (demand-token.ts). An
 * asynchronous function (queues.ts) gets FC's asynchronous
 * configuration on `live`: its retries, the event age from its retention,
 * task mode (so the gateway can read each task), and, with a dead letter, a
 * failure destination on its MNS queue, which its role may send to.
 */
import * as pulumi from "@pulumi/pulumi";
import { V3Function, V3LayerVersion, type V3FunctionArgs } from "@pulumi/alicloud/fc";
import { toMegabytes, toSeconds, type FunctionSpec, type ScalingPolicySpec } from "../../sdk/spec";
import { fcZipBase64, serverlessPackages } from "../shared/bundle";
import { recordEndpoint } from "../shared/endpoints";
import { functionEnvironment } from "../shared/function-env";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { oncePerRegion } from "../shared/once-per-region";
import { withJwt, type AlicloudContext } from "./context";
import { demandReport } from "./demand-token";
import { offEns } from "./ens-settings";
import { fcFunctionName, invokeAsynchronously, queueHere, type PlacedFcQueue } from "./queues";
import { allowSecretRead, declaredSecretsEnvironment, fcRole, jwtKeyEnvironment, type KmsSecretRef } from "./secrets";
import { configurationRevision, jwtTrigger, LIVE_ALIAS, provision, publishLive } from "./serving";
import { tracingIn } from "./tracing";

/** vCPUs for a memory size: FC needs 1–4 GB per vCPU, in 0.05 vCPU steps; cloudloom gives 2 GB per vCPU. */
export function fcCpu(memoryMb: number): number {
  return Math.max(0.05, Math.round((memoryMb / 2048) * 20) / 20);
}

/** Inputs of one function in one region. */
export interface FcFunctionArgs {
  app: string;
  entry: string;
  spec: FunctionSpec;
  scaling?: ScalingPolicySpec;
  /** The bundled handler, a base64 zip. */
  zipFile: pulumi.Input<string>;
  /** ARN of the region's cloudloom runtime layer, which the handler requires. */
  runtimeLayer: pulumi.Input<string>;
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Public JWKS the trigger verifies the gateway's tokens with. */
  jwks: pulumi.Input<object>;
  /** The KMS secrets the function reads at cold start (the JWT key, its declared secrets): it gets a role that may read exactly those. */
  secrets?: KmsSecretRef[];
  /** Its asynchronous queue, when it is asynchronous and this is its home region. */
  queue?: PlacedFcQueue;
}

/** An FC function and everything around it, typed `cloudloom:alicloud:Function`. */
export class FcFunction extends pulumi.ComponentResource {
  /** The trigger's URL (JWT auth). */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: FcFunctionArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:alicloud:Function", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const memory = toMegabytes(args.spec.memory);
    const tags = entryLabels(args.app, "function", args.entry);
    const secrets = args.secrets ?? [];
    // FC delivers failed asynchronous invocations to their destination with the function's own role.
    const role = secrets.length > 0 || args.queue?.deadLetter ? fcRole(name, tags, child) : undefined;
    const secretRead = role && secrets.length > 0 ? [allowSecretRead(name, role, secrets, tags, child)] : [];
    const configuration: V3FunctionArgs = {
      functionName: name,
      runtime: "nodejs20",
      handler: "index.handler",
      code: { zipFile: args.zipFile },
      layers: [args.runtimeLayer],
      memorySize: memory,
      cpu: fcCpu(memory),
      diskSize: 512,
      timeout: Math.ceil(toSeconds(args.spec.timeout)),
      instanceConcurrency: args.spec.concurrency,
      internetAccess: true,
      environmentVariables: args.environment,
      ...(role ? { role: role.arn } : {}),
      tags,
    };
    const fn = new V3Function(name, configuration, { ...child, dependsOn: secretRead });
    // The function's name and its alias's are known now: plain values, with the order kept by
    // dependsOn (an Output per such input was a tenth of a 1,000-function plan's time).
    const alias = publishLive(name, name, configurationRevision(configuration), { ...child, dependsOn: [fn] });
    if (args.scaling) provision(name, name, alias, args.scaling, false, child);
    if (args.queue) invokeAsynchronously(name, fn.functionName, alias.aliasName, args.queue, role, tags, child);
    this.url = jwtTrigger(name, name, LIVE_ALIAS, args.jwks, { ...child, dependsOn: [alias] });
    this.registerOutputs({ url: this.url });
  }
}

/** The functions step: the runtime layer once per region, and an FC function per function per region. */
export function placeFunctions(context: AlicloudContext): void {
  const { spec, args, name, parent } = context;
  if (Object.keys(spec.functions).length === 0) return;
  const packages = serverlessPackages(args.root, spec.functions, "fc", fcZipBase64);
  const runtimeLayer = oncePerRegion((region) => {
    const layerName = resourceName(name, region, "runtime");
    return new V3LayerVersion(
      layerName,
      { layerName, code: { zipFile: packages.runtime }, compatibleRuntimes: ["nodejs20"], description: "cloudloom serverless runtime" },
      { parent, provider: context.regions.get(region)!.provider },
    ).layerVersionArn;
  });
  for (const [fnName, fn] of Object.entries(spec.functions)) {
    const zipFile = packages.handler(fnName);
    // ENS regions run functions as containers on their own instances (ens-region.ts).
    for (const region of fn.regions.filter(offEns(spec))) {
      const { provider } = context.regions.get(region)!;
      const endpointOf = (key: string) =>
        context.models.get(`${key}/${region}`) ?? context.models.get(`${key}/${spec.models[key].regions[0]}`)!;
      // A function that calls models mints their JWTs with the gateway's key; it and the function's
      // declared secrets are read from KMS at cold start: the configuration holds only their names.
      const jwtKeySecret = fn.models.length > 0 ? context.jwtKeySecret(region) : undefined;
      const declared = Object.fromEntries(
        Object.entries(fn.environment).flatMap(([variable, value]) =>
          typeof value === "string" ? [] : [[variable, context.functionSecret(region, value.secret)] as const],
        ),
      );
      const traced = tracingIn(context, region);
      // Calls to a holding model on ACK are reported to the region's gateway, with a token read from KMS like the JWT key.
      const reports = demandReport(context, fnName, region);
      const signing: Record<string, pulumi.Input<string>> = {
        ...traced.environment,
        ...reports.environment,
        ...(jwtKeySecret ? jwtKeyEnvironment(jwtKeySecret) : {}),
        ...declaredSecretsEnvironment({ ...declared, ...traced.kms, ...reports.kms }),
      };
      // No secret values: the declared secrets' variables are left out, the runtime sets them from KMS.
      const environment = functionEnvironment(spec, fnName, region, undefined, endpointOf, signing);
      for (const variable of Object.keys(declared)) delete environment[variable];
      const functionName = fcFunctionName(context, fnName, region);
      const created = new FcFunction(
        functionName,
        {
          app: spec.app,
          entry: fnName,
          spec: fn,
          scaling: fn.scaling ? spec.scalingPolicies[fn.scaling] : undefined,
          zipFile,
          runtimeLayer: runtimeLayer(region),
          environment,
          jwks: context.jwks,
          secrets: [
            ...(jwtKeySecret ? [jwtKeySecret] : []),
            ...Object.values(declared),
            ...Object.values(traced.kms),
            ...Object.values(reports.kms),
          ],
          queue: queueHere(context, "function", fnName, region),
        },
        { parent, provider },
      );
      recordEndpoint(context.endpoints.functions, fnName, region, withJwt(created.url, functionName));
      context.monitored.set(`${fnName}/${region}`, { functionName, alicloudRegion: context.regions.get(region)!.alicloudRegion });
    }
  }
}
