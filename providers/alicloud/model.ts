/**
 * One model version in one Alibaba Cloud region: an FC 3.0 function running
 * the cloudloom runtime as a custom container, with a GPU from the pool's
 * accelerator (or CPU only), the artifact's OSS prefix mounted read-only
 * through a RAM role that may read only that prefix, published behind
 * `live`, reachable only with the gateway's JWT, and provisioned from its
 * scaling policy (GPUs kept allocated when the floor is at least one).
 */
import * as pulumi from "@pulumi/pulumi";
import { V3Function, type V3FunctionArgs } from "@pulumi/alicloud/fc";
import { ACCELERATORS, toMegabytes, type Accelerator, type GpuPoolSpec, type ModelSpec, type ScalingPolicySpec } from "../../sdk/spec";
import { CONTAINER_PORT, HEALTH_PATHS, podServeArgs, RUNTIME_ENTRYPOINT } from "../../runtime/contract";
import { entryLabels } from "../shared/labels";
import { artifactReader } from "./artifact-reader";
import type { OssArtifact } from "./artifacts";
import { fcCpu } from "./function";
import { configurationRevision, jwtTrigger, provision, publishLive } from "./serving";

/** Where the artifact's prefix is mounted in the container. */
export const MOUNT_DIR = "/mnt/model";

/** FC's GPU type and memory for a pool: the catalog's type, the pool's GPU memory in MB (a multiple of 1,024). */
export function fcGpu(pool: GpuPoolSpec): { gpuType: string; gpuMemorySize: number } {
  const mapping = ACCELERATORS[pool.accelerator as Accelerator] as { alicloud?: { fcGpuType?: string } };
  const gpuType = mapping.alicloud?.fcGpuType;
  if (!gpuType) throw new Error(`Function Compute offers no ${pool.accelerator} GPU`);
  return { gpuType, gpuMemorySize: toMegabytes(pool.gpuMemory) };
}

/** What a model function serves, and where its files are. */
export interface ModelServing {
  /** The model version (for its memory and batching). */
  model: ModelSpec;
  /** The key the runtime serves: `name@version`, or `name@{version}` for a function serving several. */
  key: string;
  region: string;
  pool?: GpuPoolSpec;
  image: string;
  roleArn: pulumi.Input<string>;
  /** The OSS prefix mounted read-only at MOUNT_DIR. */
  mount: { bucket: pulumi.Input<string>; prefix: string; endpoint: string };
  /** The directory holding the served version's spec.json and model.onnx. */
  servingDir: string;
  tags: Record<string, string>;
  environment?: Record<string, string>;
}

/** The configuration of an FC function running the cloudloom runtime as a custom container for a model. */
export function modelFunctionConfiguration(name: string, serving: ModelServing): V3FunctionArgs {
  const memory = serving.model.memory ? toMegabytes(serving.model.memory) : serving.pool ? 16_384 : 2_048;
  const dir = serving.servingDir;
  return {
    functionName: name,
    runtime: "custom-container",
    handler: "index.handler",
    customContainerConfig: {
      image: serving.image,
      port: CONTAINER_PORT,
      entrypoints: [...RUNTIME_ENTRYPOINT],
      commands: podServeArgs({
        spec: `${dir}/spec.json`,
        only: `model:${serving.key}`,
        region: serving.region,
        artifact: `${dir}/model.onnx`,
        root: dir,
      }),
      healthCheckConfig: { httpGetUrl: HEALTH_PATHS.ready, initialDelaySeconds: 1, periodSeconds: 5, failureThreshold: 3 },
    },
    gpuConfig: serving.pool ? fcGpu(serving.pool) : undefined,
    memorySize: memory,
    cpu: fcCpu(memory),
    diskSize: 10_240,
    timeout: 60,
    instanceConcurrency: serving.model.batching?.maxBatchSize ?? 16,
    role: serving.roleArn,
    environmentVariables: serving.environment,
    ossMountConfig: {
      mountPoints: [
        {
          bucketName: serving.mount.bucket,
          bucketPath: serving.mount.prefix,
          endpoint: serving.mount.endpoint,
          mountDir: MOUNT_DIR,
          readOnly: true,
        },
      ],
    },
    tags: serving.tags,
  };
}

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
    });
    const fn = new V3Function(name, configuration, { ...child, dependsOn: [attached] });
    const alias = publishLive(name, fn.functionName, configurationRevision(configuration), child);
    if (args.scaling) provision(name, fn.functionName, alias, args.scaling, Boolean(args.pool), child);
    this.url = jwtTrigger(name, fn.functionName, alias.aliasName, args.jwks, child);
    this.registerOutputs({ url: this.url });
  }
}
