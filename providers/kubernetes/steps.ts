/** The Kubernetes provider's steps, one per spec section. */
import * as pulumi from "@pulumi/pulumi";
import * as apps from "@pulumi/kubernetes/apps/v1";
import * as autoscaling from "@pulumi/kubernetes/autoscaling/v2";
import * as core from "@pulumi/kubernetes/core/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import { endpointUrl, type Endpoint, type SpecV1 } from "../../sdk/spec";
import type { ProviderSteps } from "../provider";
import { recordEndpoint, type EndpointsBuilder } from "../shared/endpoints";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import { CONTAINER_PORT, JWT_ENV, podServeArgs, RUNTIME_ENV } from "../../runtime/contract";
import type { ResolvedKubernetesArgs } from "./app";
import { containerEnv, functionResources, gpuScheduling, healthProbes, regionScheduling } from "./pod";
import { KubernetesWorkload, type WorkloadExposure } from "./workload";

/** What the steps share while building one app. */
export interface KubernetesContext {
  name: string;
  spec: SpecV1;
  args: ResolvedKubernetesArgs;
  child: { parent: pulumi.Resource; provider?: pulumi.ProviderResource };
  endpoints: EndpointsBuilder<pulumi.Output<Endpoint>>;
  namespace?: pulumi.Output<string>;
  regions: Map<string, ReturnType<typeof regionScheduling>>;
  pools: Map<string, ReturnType<typeof gpuScheduling>>;
}

/** Name of the ConfigMap every workload reads the spec from. */
export const specConfigName = (app: string) => resourceName(app, "spec");

/** Where workloads mount the spec. */
const SPEC_DIR = "/etc/cloudloom";

const specVolume = (context: KubernetesContext): input.core.v1.Volume => ({
  name: "spec",
  configMap: { name: specConfigName(context.spec.app) },
});
const specMount: input.core.v1.VolumeMount = { name: "spec", mountPath: SPEC_DIR, readOnly: true };

/** Name of the Secret holding function secrets. */
export const secretsName = (app: string) => resourceName(app, "secrets");

/**
 * The init container that fetches a model's artifact into the pod and checks
 * its sha256: wget for an HTTPS base URL, the AWS CLI for S3 (credentials
 * from the node's role).
 */
/** How the init container downloads an artifact: its image, command and extra variables. */
function artifactDownload(context: KubernetesContext): { image: string; command: string; env: input.core.v1.EnvVar[] } {
  const { artifactUris, ossAccess, runtimeImage } = context.args;
  if (artifactUris && ossAccess)
    return {
      // The runtime image ships ossutil; the node's RAM role may read only this app's artifacts.
      image: runtimeImage,
      command: 'ossutil cp -e "$OSS_ENDPOINT" --mode EcsRamRole --ecs-role-name "$OSS_ROLE" "$ARTIFACT_URL" /models/model.onnx',
      env: [
        { name: "OSS_ENDPOINT", value: ossAccess.endpoint },
        { name: "OSS_ROLE", value: ossAccess.roleName },
      ],
    };
  if (artifactUris) return { image: AWS_CLI_IMAGE, command: 'aws s3 cp --only-show-errors "$ARTIFACT_URL" /models/model.onnx', env: [] };
  return { image: FETCH_IMAGE, command: 'wget -q -O /models/model.onnx "$ARTIFACT_URL"', env: [] };
}

function fetchArtifact(context: KubernetesContext, key: string): input.core.v1.Container {
  const model = context.spec.models[key];
  const url =
    context.args.artifactUris?.[key] ?? `${context.args.artifactBaseUrl.replace(/\/$/, "")}/${model.name}/${model.version}/model.onnx`;
  const download = artifactDownload(context);
  return {
    name: "fetch-artifact",
    image: download.image,
    command: ["sh", "-c", `${download.command} && echo "$ARTIFACT_SHA256  /models/model.onnx" | sha256sum -c -`],
    env: [{ name: "ARTIFACT_URL", value: url }, { name: "ARTIFACT_SHA256", value: model.artifact.sha256 }, ...download.env],
    volumeMounts: [{ name: "model", mountPath: "/models" }],
  };
}

const FETCH_IMAGE = "busybox:1.36";
const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.22.0";

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

function modelPodSpec(context: KubernetesContext, key: string, region: string, workload: string): input.core.v1.PodSpec {
  const model = context.spec.models[key];
  const pool = model.pool ? context.pools.get(model.pool) : undefined;
  const scheduling = context.regions.get(region)!;
  return {
    affinity: scheduling.affinity,
    tolerations: [...(scheduling.tolerations as input.core.v1.Toleration[]), ...(pool ? [pool.toleration] : [])],
    nodeSelector: pool?.nodeSelector,
    volumes: [{ name: "model", emptyDir: {} }, specVolume(context)],
    initContainers: [fetchArtifact(context, key)],
    containers: [
      {
        name: "model-server",
        image: context.args.runtimeImage,
        args: podServeArgs({ spec: `${SPEC_DIR}/spec.json`, only: `model:${key}`, region, artifact: "/models/model.onnx" }),
        env: jwtEnv(context, workload),
        ports: [{ name: "http", containerPort: CONTAINER_PORT }],
        volumeMounts: [{ name: "model", mountPath: "/models", readOnly: true }, specMount],
        resources: pool
          ? { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi", ...pool.limits } }
          : { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } },
        ...healthProbes(),
      },
    ],
  };
}

function functionPodSpec(context: KubernetesContext, name: string, region: string): input.core.v1.PodSpec {
  const fn = context.spec.functions[name];
  const scheduling = context.regions.get(region)!;
  const modelUrls = fn.models.flatMap((key) => {
    const urls = context.endpoints.models[key] ?? {};
    const url = urls[region] ?? Object.values(urls)[0];
    return url ? [pulumi.interpolate`${key}=${url.apply(endpointUrl)}`] : [];
  });
  return {
    ...scheduling,
    volumes: [specVolume(context)],
    containers: [
      {
        name: "function",
        image: context.args.functionImage,
        args: podServeArgs({ spec: `${SPEC_DIR}/spec.json`, only: `function:${name}`, region, root: "/app", modelUrls }),
        ports: [{ name: "http", containerPort: CONTAINER_PORT }],
        env: containerEnv(fn.environment, secretsName(context.spec.app)),
        volumeMounts: [specMount],
        resources: functionResources(fn.memory),
        ...healthProbes(),
      },
    ],
  };
}

/** Creates one workload component and returns its in-cluster URL. */
function placeWorkload(
  context: KubernetesContext,
  kind: "Function" | "Model",
  name: string,
  labels: Record<string, string>,
  podSpec: input.core.v1.PodSpec,
  scaling: string | undefined,
  exposure?: WorkloadExposure,
): pulumi.Output<string> {
  const policy = scaling ? context.spec.scalingPolicies[scaling] : undefined;
  const args = { namespace: context.namespace!, labels, podSpec, scaling: policy, prometheusUrl: context.args.prometheusUrl, exposure };
  return new KubernetesWorkload(kind, name, args, context.child).url;
}

/** The Kubernetes mapping of each spec section. */
export const kubernetesSteps: ProviderSteps<KubernetesContext> = {
  regions(context) {
    const { spec, args, child } = context;
    const namespace = new core.Namespace(
      resourceName(context.name, "ns"),
      { metadata: { name: args.namespace, labels: entryLabels(spec.app, "app", spec.app) } },
      child,
    );
    context.namespace = namespace.metadata.name;
    new core.ConfigMap(
      specConfigName(context.name),
      {
        metadata: { name: specConfigName(spec.app), namespace: context.namespace, labels: entryLabels(spec.app, "app", spec.app) },
        data: { "spec.json": JSON.stringify(spec, null, 2) },
      },
      child,
    );
    for (const [name, region] of Object.entries(spec.regions)) context.regions.set(name, regionScheduling(region));
    if (args.secrets) {
      new core.Secret(
        secretsName(context.name),
        {
          metadata: { name: secretsName(spec.app), namespace: context.namespace, labels: entryLabels(spec.app, "app", spec.app) },
          stringData: args.secrets,
        },
        child,
      );
    }
  },

  gpuPools(context) {
    for (const [name, pool] of Object.entries(context.spec.gpuPools))
      context.pools.set(name, gpuScheduling(pool, context.args.acceleratorLabels));
  },

  scalingPolicies() {
    // Policies attach to each workload (steps models and functions); their
    // schedules were already checked before any resource was created.
  },

  models(context) {
    for (const [key, model] of Object.entries(context.spec.models)) {
      for (const region of model.regions) {
        const labels = entryLabels(context.spec.app, "model", model.name, {
          "cloudloom.dev/version": model.version,
          "cloudloom.dev/region": region,
        });
        const name = resourceName(context.name, modelPart(model.name, model.version), region);
        const url = placeWorkload(
          context,
          "Model",
          name,
          labels,
          modelPodSpec(context, key, region, name),
          model.scaling,
          exposure(context, key),
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
  },

  functions(context) {
    for (const [fnName, fn] of Object.entries(context.spec.functions)) {
      for (const region of fn.regions) {
        const labels = entryLabels(context.spec.app, "function", fnName, { "cloudloom.dev/region": region });
        const name = resourceName(context.name, "fn", fnName, region);
        const url = placeWorkload(context, "Function", name, labels, functionPodSpec(context, fnName, region), fn.scaling);
        recordEndpoint(context.endpoints.functions, fnName, region, url);
      }
    }
  },

  gateway(context) {
    const { spec, args, child } = context;
    if (!args.gateway) return;
    const name = resourceName(context.name, "gateway");
    const labels = entryLabels(spec.app, "gateway", "gateway");
    const metadata = { name, namespace: context.namespace!, labels };
    const endpointsJson = pulumi.output(context.endpoints).apply((endpoints) => JSON.stringify(endpoints, null, 2));
    const config = new core.ConfigMap(
      name,
      { metadata, data: { "spec.json": JSON.stringify(spec, null, 2), "endpoints.json": endpointsJson } },
      child,
    );
    const keys = new core.Secret(
      `${name}-keys`,
      {
        metadata: { ...metadata, name: `${name}-keys` },
        stringData: { "api-keys": pulumi.output(args.apiKeys ?? []).apply((k) => k.join("\n")) },
      },
      child,
    );
    const selector = { "cloudloom.dev/workload": name };
    const deployment = new apps.Deployment(
      name,
      {
        metadata,
        spec: {
          replicas: 2,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels: { ...labels, ...selector } },
            spec: {
              volumes: [{ name: "config", configMap: { name: config.metadata.name } }],
              containers: [
                {
                  name: "gateway",
                  image: args.gatewayImage,
                  args: ["serve", "--spec", "/etc/cloudloom/spec.json", "--endpoints", "/etc/cloudloom/endpoints.json"],
                  ports: [{ name: "http", containerPort: CONTAINER_PORT }],
                  env: [{ name: RUNTIME_ENV.apiKeys, valueFrom: { secretKeyRef: { name: keys.metadata.name, key: "api-keys" } } }],
                  volumeMounts: [{ name: "config", mountPath: "/etc/cloudloom", readOnly: true }],
                  resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                  ...healthProbes(),
                },
              ],
            },
          },
        },
      },
      { ...child, ignoreChanges: ["spec.replicas"] },
    );
    new core.Service(name, { metadata, spec: { selector, ports: [{ name: "http", port: 80, targetPort: CONTAINER_PORT }] } }, child);
    new autoscaling.HorizontalPodAutoscaler(
      name,
      {
        metadata,
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
          minReplicas: 2,
          maxReplicas: 10,
          metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
        },
      },
      { ...child, dependsOn: [deployment] },
    );
  },
};
