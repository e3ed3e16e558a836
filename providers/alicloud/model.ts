/**
 * One model version in one Alibaba Cloud region: an FC 3.0 function running
 * the cloudloom runtime as a custom container, with a GPU from the pool's
 * accelerator (or CPU only), the artifact's OSS prefix mounted read-only
 * through a RAM role that may read only that prefix, published behind
 * `live`, reachable only with the gateway's JWT, and provisioned from its
 * scaling policy (GPUs kept allocated when the floor is at least one).
 * With tracing, its role may also read the region's tracing-headers secret.
 * Models of Kubernetes-platform pools run on ACK (cluster-models.ts), and
 * versions a route splits share one function (model-family.ts). A version an
 * asynchronous route queues gets FC's asynchronous invocation on `live`
 * (queues.ts), with the dead letter its role may send to.
 */
import * as pulumi from "@pulumi/pulumi";
import { V3Function } from "@pulumi/alicloud/fc";
import { asyncEntryKey, type GpuPoolSpec, type ModelSpec, type ScalingPolicySpec } from "../../sdk/spec";
import { recordEndpoint } from "../shared/endpoints";
import { entryLabels } from "../shared/labels";

import { artifactReader } from "./artifact-reader";
import type { OssArtifact } from "./artifacts";
import { onAck } from "./ack-settings";
import { placeAckModels } from "./cluster-models";
import { withJwt, type AlicloudContext } from "./context";
import { offEns } from "./ens-settings";
import { modelFamilies, placeModelFamily } from "./model-family";
import { modelFunctionConfiguration, MOUNT_DIR } from "./model-container";
import { fcModelFunctionName, invokeAsynchronously, queueHere, recordQueueEndpoint, type PlacedFcQueue } from "./queues";
import { allowSecretRead } from "./secrets";
import { configurationRevision, jwtTrigger, LIVE_ALIAS, provision, publishLive } from "./serving";
import { tracingIn, tracingVariables, type AlicloudTracing } from "./tracing";

/** Inputs of one model version in one region. */
export interface FcModelArgs {
  app: string;
  /** The model's key, `name@version`. */
  key: string;
  /** The spec region it serves. */
  region: string;
  model: ModelSpec;
  pool?: GpuPoolSpec;
  scaling?: ScalingPolicySpec;
  artifact: OssArtifact;
  /** The cloudloom runtime image in Alibaba Container Registry. */
  image: string;
  /** The OSS endpoint of the region (internal). */
  ossEndpoint: string;
  jwks: pulumi.Input<object>;
  /** Its asynchronous queue, when a route queues it and this is its home region. */
  queue?: PlacedFcQueue;
  /** Where the model's server exports its spans. @default no tracing */
  tracing?: AlicloudTracing;
}

/** A model served by Function Compute, typed `cloudloom:alicloud:Model`. */
export class FcModel extends pulumi.ComponentResource {
  /** Base URL of the model server (the gateway appends the internal predict path); JWT auth. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: FcModelArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:alicloud:Model", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "model", args.model.name, { "cloudloom.dev/version": args.model.version });
    const { role, attached } = artifactReader(name, "fc.aliyuncs.com", [args.artifact], tags, child);
    const traced = tracingVariables(args.tracing);
    const secretRead = traced.secrets.length > 0 ? [allowSecretRead(name, role, traced.secrets, tags, child)] : [];
    const configuration = modelFunctionConfiguration(name, {
      model: args.model,
      key: args.key,
      region: args.region,
      pool: args.pool,
      image: args.image,
      roleArn: role.arn,
      mount: { bucket: args.artifact.bucket, prefix: args.artifact.prefix, endpoint: args.ossEndpoint },
      servingDir: MOUNT_DIR,
      tags,
      environment: traced.environment,
    });
    const fn = new V3Function(name, configuration, { ...child, dependsOn: [attached, ...secretRead] });
    const alias = publishLive(name, fn.functionName, configurationRevision(configuration), child);
    if (args.scaling) provision(name, fn.functionName, alias, args.scaling, Boolean(args.pool), child);
    if (args.queue) invokeAsynchronously(name, fn.functionName, alias.aliasName, args.queue, role, tags, child);
    this.url = jwtTrigger(name, fn.functionName, alias.aliasName, args.jwks, child);
    this.registerOutputs({ url: this.url });
  }
}

/** The models step: ACK models, canaried model families, then one FC function per other model version per region. */
export function placeModels(context: AlicloudContext): void {
  const { spec, args, parent } = context;
  for (const region of context.clusters.keys()) placeAckModels(context, region);
  const families = modelFamilies(spec);
  for (const [model, family] of families) placeModelFamily(context, model, family);
  const inFamily = new Set([...families.values()].flatMap((family) => family.keys));
  for (const [key, model] of Object.entries(spec.models)) {
    if (onAck(spec, key) || inFamily.has(key)) continue;
    // ENS regions run models as containers on their own instances (ens-region.ts).
    for (const region of model.regions.filter(offEns(spec))) {
      const { provider, alicloudRegion } = context.regions.get(region)!;
      const functionName = fcModelFunctionName(context, key, region);
      const queue = queueHere(context, "model", key, region);
      const served = new FcModel(
        functionName,
        {
          app: spec.app,
          key,
          region,
          model,
          pool: model.pool ? spec.gpuPools[model.pool] : undefined,
          scaling: model.scaling ? spec.scalingPolicies[model.scaling] : undefined,
          artifact: context.artifacts.get(`${key}/${region}`)!,
          image: args.runtimeImage!.replaceAll("{region}", alicloudRegion),
          ossEndpoint: `oss-${alicloudRegion}-internal.aliyuncs.com`,
          jwks: context.jwks,
          queue,
          tracing: tracingIn(context, region),
        },
        { parent, provider },
      );
      if (queue) recordQueueEndpoint(context, asyncEntryKey("model", key), region, functionName, LIVE_ALIAS);
      const endpoint = withJwt(served.url, functionName);
      context.models.set(`${key}/${region}`, endpoint);
      context.monitored.set(`${key}/${region}`, { functionName, alicloudRegion });
      recordEndpoint(context.endpoints.models, key, region, endpoint);
    }
  }
}
