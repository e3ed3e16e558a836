/**
 * Models on Kubernetes: one workload per model version per region, its pod
 * fetching the artifact (artifacts.ts) and running the cloudloom runtime on
 * the model's GPU pool (gpu-pool.ts) or on CPU. A model is reachable from
 * outside the cluster only behind an authenticated front: a node port that
 * front alone reaches, or a load balancer whose pods require the gateway's JWT.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as input from "@pulumi/kubernetes/types/input";
import { CONTAINER_PORT, JWT_ENV, podServeArgs } from "../../runtime/contract";
import { recordEndpoint } from "../shared/endpoints";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import { ARTIFACT_PATH, fetchArtifact } from "./artifacts";
import type { KubernetesContext } from "./context";
import { gatewayDemand } from "./gateway";
import { healthProbes } from "./pod";
import { SPEC_DIR, specMount, specVolume } from "./region";
import { restrictedContainer, RUNTIME_USER, withEphemeralStorage } from "./security";
import { queueWorker } from "./queues";
import { placeWorkload, type WorkloadExposure } from "./workload";

/** How a model's Service is reached from outside the cluster, if it is. */
function exposure(context: KubernetesContext, key: string): WorkloadExposure | undefined {
  const { modelNodePorts, modelJwt } = context.args;
  if (modelJwt) return { type: "LoadBalancer", annotations: modelJwt.annotations };
  const port = modelNodePorts?.ports[key];
  return port ? { type: "NodePort", port, frontedBy: modelNodePorts.frontedBy } : undefined;
}

/** The variables that make a model pod require the gateway's JWT for its audience (the workload's name). */
function jwtEnv(context: KubernetesContext, audience: string): input.core.v1.EnvVar[] {
  const jwt = context.args.modelJwt;
  if (!jwt) return [];
  return [
    { name: JWT_ENV.jwks, value: pulumi.output(jwt.jwks).apply((jwks) => JSON.stringify(jwks)) },
    { name: JWT_ENV.issuer, value: jwt.issuer },
    { name: JWT_ENV.audience, value: audience },
  ];
}

/** The most an artifact may take on the node's disk (the `model` emptyDir's limit). */
export const MODEL_VOLUME_SIZE = "2Gi";

/** The model server's ephemeral storage: the pod's limit covers the artifact, its scratch space and logs. */
const MODEL_STORAGE = { requests: { "ephemeral-storage": "512Mi" }, limits: { "ephemeral-storage": "3Gi" } };

function modelPodSpec(
  context: KubernetesContext,
  key: string,
  region: string,
  workload: string,
  queueEnv: input.core.v1.EnvVar[],
): input.core.v1.PodSpec {
  const model = context.spec.models[key];
  const pool = model.pool ? context.pools.get(model.pool) : undefined;
  const scheduling = context.regions.get(region)!;
  return {
    affinity: scheduling.affinity,
    tolerations: [...(scheduling.tolerations as input.core.v1.Toleration[]), ...(pool ? [pool.toleration] : [])],
    nodeSelector: pool?.nodeSelector,
    volumes: [{ name: "model", emptyDir: { sizeLimit: MODEL_VOLUME_SIZE } }, specVolume(context.spec.app)],
    initContainers: [fetchArtifact(context, key)],
    containers: [
      restrictedContainer(
        {
          name: "model-server",
          image: context.args.runtimeImage,
          args: podServeArgs({ spec: `${SPEC_DIR}/spec.json`, only: `model:${key}`, region, artifact: ARTIFACT_PATH }),
          env: [...jwtEnv(context, workload), ...queueEnv],
          ports: [{ name: "http", containerPort: CONTAINER_PORT }],
          volumeMounts: [{ name: "model", mountPath: "/models", readOnly: true }, specMount],
          resources: withEphemeralStorage(
            pool
              ? { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi", ...pool.limits } }
              : { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } },
            MODEL_STORAGE,
          ),
          ...healthProbes(),
        },
        RUNTIME_USER,
      ),
    ],
  };
}

/** The models step: a `cloudloom:kubernetes:Model` workload per model version per region. */
export function placeModels(context: KubernetesContext): void {
  for (const [key, model] of Object.entries(context.spec.models)) {
    for (const region of model.regions) {
      const labels = entryLabels(context.spec.app, "model", model.name, {
        "cloudloom.dev/version": model.version,
        "cloudloom.dev/region": region,
      });
      const name = resourceName(context.name, modelPart(model.name, model.version), region);
      // The version's pods in its home region work its queue, when an asynchronous route reaches it (batch inference).
      const worker = queueWorker(context, "model", key, region, model.batching.maxBatchSize);
      const url = placeWorkload(
        context,
        "Model",
        name,
        labels,
        modelPodSpec(context, key, region, name, worker?.env ?? []),
        model.scaling,
        exposure(context, key),
        gatewayDemand(context, "model", key, region),
        worker?.queue,
      );
      const jwt = context.args.modelJwt;
      recordEndpoint(
        context.endpoints.models,
        key,
        region,
        jwt ? url.apply((resolved) => ({ url: resolved, jwt: { issuer: jwt.issuer, audience: name } })) : url,
      );
    }
  }
}
