/**
 * One function in one Alibaba Cloud region: an FC 3.0 function on the
 * nodejs20 runtime running the bundled handler, sized from the spec,
 * published behind `live`, reachable only with the gateway's JWT, and
 * provisioned from its scaling policy.
 */
import * as pulumi from "@pulumi/pulumi";
import { V3Function, type V3FunctionArgs } from "@pulumi/alicloud/fc";
import { toMegabytes, toSeconds, type FunctionSpec, type ScalingPolicySpec } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { configurationRevision, jwtTrigger, provision, publishLive } from "./serving";

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
}

/** An FC function and everything around it, typed `cloudloom:alicloud:Function`. */
export class FcFunction extends pulumi.ComponentResource {
  /** The trigger's URL (JWT auth). */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: FcFunctionArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:alicloud:Function", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const memory = toMegabytes(args.spec.memory);
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
      tags: entryLabels(args.app, "function", args.entry),
    };
    const fn = new V3Function(name, configuration, child);
    const alias = publishLive(name, fn.functionName, configurationRevision(configuration), child);
    if (args.scaling) provision(name, fn.functionName, alias, args.scaling, false, child);
    this.url = jwtTrigger(name, fn.functionName, alias.aliasName, args.jwks, child);
    this.registerOutputs({ url: this.url });
  }
}
