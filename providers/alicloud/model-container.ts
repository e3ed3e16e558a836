/**
 * FC's configuration of a function running the cloudloom runtime as a
 * custom container for a model: the container and its command, the GPU (or
 * CPU) size, and the artifact's OSS prefix mounted read-only. One model
 * version's function (model.ts) and a canaried model's function
 * (model-family.ts) are both configured here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { V3FunctionArgs } from "@pulumi/alicloud/fc";
import { toMegabytes, type GpuPoolSpec, type ModelSpec } from "../../sdk/spec";
import { CONTAINER_PORT, HEALTH_PATHS, podServeArgs, RUNTIME_ENTRYPOINT } from "../../runtime/contract";
import { fcCpu } from "./function";
import { fcGpu } from "./gpu-pool";

/** Where the artifact's prefix is mounted in the container. */
export const MOUNT_DIR = "/mnt/model";

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
