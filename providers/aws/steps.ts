/** The AWS provider's steps, one per spec section. */
import * as pulumi from "@pulumi/pulumi";
import { LayerVersion } from "@pulumi/aws/lambda";
import { Provider } from "@pulumi/aws/provider";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import type { Endpoint, SpecV1 } from "../../sdk/spec";
import { modelPredictPath } from "../../runtime/contract";
import { KubernetesApp } from "../kubernetes/app";
import type { ProviderSteps } from "../provider";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import { functionEnvironment } from "../shared/function-env";
import { oncePerRegion } from "../shared/once-per-region";
import { modelsSpec } from "../shared/sub-spec";
import type { AwsAppArgs } from "./app";
import { ArtifactStore, type StoredArtifact } from "./artifacts";
import { lambdaArchive, serverlessPackages } from "../shared/bundle";
import { recordEndpoint, type EndpointsBuilder } from "../shared/endpoints";
import { EksCluster } from "./cluster";
import { EksClusterAddons } from "./cluster-addons";
import { AwsFunction } from "./function";
import { EksGpuPool } from "./gpu-pool";
import { EksModelApi } from "./model-api";
import { clusterRegions } from "./networks";
import { SageMakerModel } from "./sagemaker";

/** First node port of a region's model servers; model i of the region gets FIRST_NODE_PORT + i. */
const FIRST_NODE_PORT = 30080;

/** One declared region on AWS. */
interface AwsRegion {
  provider: Provider;
  /** The AWS region (a Local Zone region runs in its parent region). */
  awsRegion: string;
}

/** Where a model version is served in one region, and how callers are authorized. */
interface ServedModel {
  endpoint: pulumi.Output<Endpoint>;
  access: { kind: "sagemaker" | "execute-api"; arn: pulumi.Output<string> };
}

/** What the steps share while building one app. */
export interface AwsContext {
  name: string;
  spec: SpecV1;
  args: AwsAppArgs;
  parent: pulumi.Resource;
  regions: Map<string, AwsRegion>;
  /** By spec region: the cluster and its node groups by pool name. */
  clusters: Map<string, { cluster: EksCluster; pools: Map<string, EksGpuPool> }>;
  /** By `<model key>/<region>`. */
  artifacts: Map<string, StoredArtifact>;
  /** By `<model key>/<region>`. */
  models: Map<string, ServedModel>;
  endpoints: EndpointsBuilder;
}

const signed = (url: pulumi.Input<string>, service: string, region: string): pulumi.Output<Endpoint> =>
  pulumi.output(url).apply((resolved) => ({ url: resolved, exact: true, sigv4: { service, region } }));

function modelsIn(spec: SpecV1, region: string, gpu: boolean): string[] {
  return Object.keys(spec.models)
    .filter((key) => spec.models[key].regions.includes(region) && Boolean(spec.models[key].pool) === gpu)
    .sort();
}

/** GPU model servers of one region: the Kubernetes module on the region's cluster, behind the model API. */
function placeClusterModels(context: AwsContext, region: string): void {
  const { spec, args, name } = context;
  const { cluster, pools } = context.clusters.get(region)!;
  const { provider, awsRegion } = context.regions.get(region)!;
  const network = args.networks[region];
  const keys = modelsIn(spec, region, true);
  const nodePorts = Object.fromEntries(keys.map((key, i) => [key, FIRST_NODE_PORT + i]));
  const zone = spec.regions[region].placement.aws?.zone;
  const kubernetes = new KubernetesProvider(
    resourceName(name, region, "eks"),
    { kubeconfig: cluster.kubeconfig },
    { parent: context.parent },
  );
  const addons = new EksClusterAddons(
    resourceName(name, region, "addons"),
    { app: spec.app, clusterName: cluster.name, region: awsRegion, kubernetes },
    { parent: context.parent, provider },
  );
  new KubernetesApp(
    resourceName(name, region),
    {
      spec: modelsSpec(spec, keys, region, { kubernetes: { labels: zone ? { "topology.kubernetes.io/zone": zone } : {} } }),
      artifactUris: Object.fromEntries(keys.map((key) => [key, context.artifacts.get(`${key}/${region}`)!.uri])),
      modelNodePorts: { frontedBy: "aws-apigateway-iam", ports: nodePorts },
      gateway: false,
      acceleratorLabels: "eks",
      runtimeImage: args.runtimeImage,
      namespace: spec.app,
    },
    { parent: context.parent, provider: kubernetes, dependsOn: [...pools.values(), ...addons.ready] },
  );
  const api = new EksModelApi(
    resourceName(name, region, "models"),
    {
      app: spec.app,
      vpcId: network.vpcId,
      subnetIds: [...network.subnetIds, ...(network.zoneSubnetIds ?? [])],
      linkSubnetIds: network.subnetIds,
      clusterSecurityGroupId: cluster.securityGroupId,
      models: keys.map((key) => ({
        key,
        route: modelPart(spec.models[key].name, spec.models[key].version),
        nodePort: nodePorts[key],
        autoscalingGroupNames: [pools.get(spec.models[key].pool!)!.autoscalingGroupName],
        predictPath: modelPredictPath(key),
      })),
    },
    { parent: context.parent, provider },
  );
  for (const key of keys) {
    const route = api.routes[key];
    const endpoint = signed(route.url, "execute-api", awsRegion);
    context.models.set(`${key}/${region}`, { endpoint, access: { kind: "execute-api", arn: route.invokeArn } });
    recordEndpoint(context.endpoints.models, key, region, endpoint);
  }
}

/** The model version a function in `region` calls: the one in its own region, else the first region serving it. */
function servedFor(context: AwsContext, key: string, region: string): ServedModel {
  const here = context.models.get(`${key}/${region}`);
  return here ?? context.models.get(`${key}/${context.spec.models[key].regions[0]}`)!;
}

/** The AWS mapping of each spec section. */
export const awsSteps: ProviderSteps<AwsContext> = {
  regions(context) {
    const { spec, args, name, parent } = context;
    for (const [regionName, region] of Object.entries(spec.regions)) {
      const awsRegion = region.placement.aws!.region;
      const provider = new Provider(
        resourceName(name, regionName),
        { region: awsRegion as never, defaultTags: { tags: entryLabels(spec.app, "region", regionName) } },
        { parent },
      );
      context.regions.set(regionName, { provider, awsRegion });
      const keys = [...modelsIn(spec, regionName, false), ...modelsIn(spec, regionName, true)];
      if (keys.length === 0) continue;
      const store = new ArtifactStore(resourceName(name, regionName, "artifacts"), spec.app, args.root, { parent, provider });
      for (const key of keys)
        context.artifacts.set(`${key}/${regionName}`, store.put(spec.models[key], modelsSpec(spec, [key], regionName, region.placement)));
    }
  },

  gpuPools(context) {
    const { spec, args, name, parent } = context;
    for (const region of clusterRegions(spec)) {
      const { provider, awsRegion } = context.regions.get(region)!;
      const network = args.networks[region];
      const cluster = new EksCluster(
        resourceName(name, region),
        { app: spec.app, subnetIds: network.subnetIds },
        { parent, provider, region: awsRegion },
      );
      const pools = new Map<string, EksGpuPool>();
      const served = modelsIn(spec, region, true);
      for (const [poolName, pool] of Object.entries(spec.gpuPools)) {
        const keys = served.filter((key) => spec.models[key].pool === poolName);
        if (keys.length === 0) continue;
        const group = new EksGpuPool(
          resourceName(name, poolName, region),
          {
            app: spec.app,
            entry: poolName,
            pool,
            clusterName: cluster.name,
            subnetIds: network.zoneSubnetIds ?? network.subnetIds,
            artifactArns: keys.map((key) => context.artifacts.get(`${key}/${region}`)!.arn),
          },
          { parent, provider },
        );
        pools.set(poolName, group);
      }
      context.clusters.set(region, { cluster, pools });
    }
  },

  scalingPolicies() {
    // Policies attach to each function and model (provisioned concurrency,
    // Application Auto Scaling, KEDA on EKS); schedules were checked before creation.
  },

  models(context) {
    const { spec, args, name, parent } = context;
    for (const [regionName, { provider, awsRegion }] of context.regions) {
      for (const key of modelsIn(spec, regionName, false)) {
        const model = spec.models[key];
        const served = new SageMakerModel(
          resourceName(name, modelPart(model.name, model.version), regionName),
          {
            app: spec.app,
            model,
            scaling: model.scaling ? spec.scalingPolicies[model.scaling] : undefined,
            artifact: context.artifacts.get(`${key}/${regionName}`)!,
            image: args.sagemakerImage!,
          },
          { parent, provider, region: awsRegion, specRegion: regionName },
        );
        const endpoint = signed(served.url, "sagemaker", awsRegion);
        context.models.set(`${key}/${regionName}`, { endpoint, access: { kind: "sagemaker", arn: served.arn } });
        recordEndpoint(context.endpoints.models, key, regionName, endpoint);
      }
    }
    for (const region of context.clusters.keys()) placeClusterModels(context, region);
  },

  functions(context) {
    const { spec, args, name, parent } = context;
    if (Object.keys(spec.functions).length === 0) return;
    const packages = serverlessPackages(args.root, spec.functions, "lambda", lambdaArchive);
    const runtimeLayer = oncePerRegion((region) => {
      const layerName = resourceName(name, region, "runtime");
      return new LayerVersion(
        layerName,
        { layerName, code: packages.runtime, compatibleRuntimes: ["nodejs20.x"], description: "cloudloom serverless runtime" },
        { parent, provider: context.regions.get(region)!.provider },
      ).arn;
    });
    for (const [fnName, fn] of Object.entries(spec.functions)) {
      const code = packages.handler(fnName);
      for (const region of fn.regions) {
        const { provider, awsRegion } = context.regions.get(region)!;
        const access = fn.models.map((key) => servedFor(context, key, region).access);
        const created = new AwsFunction(
          resourceName(name, "fn", fnName, region),
          {
            app: spec.app,
            entry: fnName,
            spec: fn,
            scaling: fn.scaling ? spec.scalingPolicies[fn.scaling] : undefined,
            code,
            runtimeLayer: runtimeLayer(region),
            environment: functionEnvironment(spec, fnName, region, args.secrets, (key) => servedFor(context, key, region).endpoint),
            modelAccess: {
              sagemakerEndpointArns: access.filter((a) => a.kind === "sagemaker").map((a) => a.arn),
              executeApiArns: access.filter((a) => a.kind === "execute-api").map((a) => a.arn),
            },
            logRetentionDays: args.logRetentionDays,
          },
          { parent, provider },
        );
        recordEndpoint(context.endpoints.functions, fnName, region, signed(created.url, "lambda", awsRegion));
      }
    }
  },

  gateway() {
    // The gateway is not a cloud resource on AWS: it runs wherever `cloudloom serve
    // --endpoints` runs with AWS credentials, and signs every call (all endpoints are IAM-only).
  },
};
