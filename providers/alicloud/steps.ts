/** The Alibaba Cloud provider's steps, one per spec section. */
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/alicloud/provider";
import { JWT_KEY_VARIABLE } from "../../gateway/backends/auth";
import { fcCanaries, poolPlatform, type Endpoint, type FcCanary, type SpecV1 } from "../../sdk/spec";
import { getAccountOutput } from "@pulumi/alicloud";
import type { NodePool } from "@pulumi/alicloud/cs";
import { KubernetesApp } from "../kubernetes/app";
import { entryLabels } from "../shared/labels";
import type { ProviderSteps } from "../provider";
import { V3LayerVersion } from "@pulumi/alicloud/fc";
import { bundleHandlers, bundleRuntime, fcZipBase64, RUNTIME_LAYER_PATH } from "../shared/bundle";
import { recordEndpoint, type EndpointsBuilder } from "../shared/endpoints";
import { functionEnvironment } from "../shared/function-env";
import { dnsSafe, modelPart, resourceName } from "../shared/naming";
import { oncePerRegion } from "../shared/once-per-region";
import { modelsSpec } from "../shared/sub-spec";
import type { AlicloudAppArgs } from "./app";
import { AckCluster } from "./ack";
import { ackRegions } from "./ack-settings";
import { artifactReader, type ArtifactReader } from "./artifact-reader";
import { OssArtifactStore, type OssArtifact } from "./artifacts";
import { FcFunction } from "./function";
import { FcModel } from "./model";
import { FcModelFamily, routeAlias } from "./model-family";

/** Issuer of the gateway's tokens. */
export const JWT_ISSUER = "cloudloom";

/** What the steps share while building one app. */
export interface AlicloudContext {
  name: string;
  spec: SpecV1;
  args: AlicloudAppArgs;
  parent: pulumi.Resource;
  regions: Map<string, { provider: Provider; alicloudRegion: string }>;
  /** The public JWKS of the gateway's key, which every trigger verifies with. */
  jwks: pulumi.Output<object>;
  /** By `<model key>/<region>`. */
  artifacts: Map<string, OssArtifact>;
  /** By spec region: the ACK cluster of Kubernetes-platform pools, its GPU node pools and their artifact reader. */
  clusters: Map<string, { cluster: AckCluster; pools: NodePool[]; reader: ArtifactReader }>;
  /** By `<model key>/<region>`. */
  models: Map<string, pulumi.Output<Endpoint>>;
  endpoints: EndpointsBuilder;
}

const withJwt = (url: pulumi.Output<string>, audience: string): pulumi.Output<Endpoint> =>
  url.apply((resolved) => ({ url: resolved, jwt: { issuer: JWT_ISSUER, audience } }));

/** True when a model runs on an ACK node pool (its pool asks for Kubernetes). */
function onAck(spec: SpecV1, key: string): boolean {
  const pool = spec.models[key].pool;
  return pool !== undefined && poolPlatform(spec.gpuPools[pool], "alicloud") === "kubernetes";
}

/** Models of Kubernetes-platform pools placed in `region`. */
function ackModelsIn(spec: SpecV1, region: string): string[] {
  return Object.keys(spec.models)
    .filter((key) => onAck(spec, key) && spec.models[key].regions.includes(region))
    .sort();
}

/**
 * A region's ACK models: the Kubernetes module on the cluster, each model on
 * a VPC-internal load balancer whose pods require the gateway's JWT, fetching
 * its artifact from OSS with the GPU nodes' RAM role.
 */
function placeAckModels(context: AlicloudContext, region: string): void {
  const { spec, args, name, parent } = context;
  const { cluster, pools, reader } = context.clusters.get(region)!;
  const { alicloudRegion } = context.regions.get(region)!;
  const keys = ackModelsIn(spec, region);
  const artifactUri = (key: string) => {
    const artifact = context.artifacts.get(`${key}/${region}`)!;
    return pulumi.interpolate`oss://${artifact.bucket}${artifact.prefix}/model.onnx`;
  };
  const served = new KubernetesApp(
    resourceName(name, region, "ack"),
    {
      spec: modelsSpec(spec, keys, region, { kubernetes: { labels: {} } }),
      artifactUris: Object.fromEntries(keys.map((key) => [key, artifactUri(key)])),
      ossAccess: { endpoint: `oss-${alicloudRegion}-internal.aliyuncs.com`, roleName: reader.role.roleName },
      modelJwt: { jwks: context.jwks, issuer: JWT_ISSUER, annotations: { [ACK_LOAD_BALANCER_ADDRESS_TYPE]: "intranet" } },
      gateway: false,
      acceleratorLabels: "ack",
      runtimeImage: args.runtimeImage!.replaceAll("{region}", alicloudRegion),
      namespace: spec.app,
    },
    { parent, provider: cluster.kubernetes, dependsOn: [...pools, ...cluster.ready] },
  );
  for (const key of keys) {
    const endpoint = served.endpoints.apply((endpoints) => endpoints.models[key][region] as Endpoint);
    context.models.set(`${key}/${region}`, endpoint);
    recordEndpoint(context.endpoints.models, key, region, endpoint);
  }
}

/** By model name: the versions (keys, in version order) that FC aliases split, and the routes that split them. */
function modelFamilies(spec: SpecV1): Map<string, { keys: string[]; canaries: FcCanary[] }> {
  const families = new Map<string, { keys: string[]; canaries: FcCanary[] }>();
  for (const canary of fcCanaries(spec)) {
    const family = families.get(canary.model) ?? { keys: [], canaries: [] };
    family.canaries.push(canary);
    family.keys = [...new Set([...family.keys, ...Object.keys(canary.weights).map((version) => `${canary.model}@${version}`)])].sort(
      (a, b) => a.localeCompare(b, undefined, { numeric: true }),
    );
    families.set(canary.model, family);
  }
  return families;
}

/**
 * A model whose versions a route splits on FC: one function per region
 * serving them all, a published version each, an alias per splitting route.
 * Pinned calls reach a version's own trigger; the route's calls the alias's.
 */
function placeModelFamily(context: AlicloudContext, model: string, family: { keys: string[]; canaries: FcCanary[] }): void {
  const { spec, args, name, parent } = context;
  const versions = family.keys.map((key) => spec.models[key]);
  for (const region of versions[0].regions) {
    const { provider, alicloudRegion } = context.regions.get(region)!;
    const functionName = resourceName(name, dnsSafe(model), region);
    const account = getAccountOutput({ provider, parent });
    const served = new FcModelFamily(
      functionName,
      {
        app: spec.app,
        region,
        versions,
        pool: versions[0].pool ? spec.gpuPools[versions[0].pool] : undefined,
        scaling: versions[0].scaling ? spec.scalingPolicies[versions[0].scaling] : undefined,
        artifacts: Object.fromEntries(versions.map((m) => [m.version, context.artifacts.get(`${m.name}@${m.version}/${region}`)!])),
        image: args.runtimeImage!.replaceAll("{region}", alicloudRegion),
        ossEndpoint: `oss-${alicloudRegion}-internal.aliyuncs.com`,
        fcApiEndpoint: pulumi.interpolate`${account.id}.${alicloudRegion}.fc.aliyuncs.com`,
        canaries: family.canaries,
        jwks: context.jwks,
      },
      { parent, provider },
    );
    for (const version of versions) {
      const endpoint = withJwt(served.versionUrls[version.version], `${functionName}-v${version.version}`);
      context.models.set(`${model}@${version.version}/${region}`, endpoint);
      recordEndpoint(context.endpoints.models, `${model}@${version.version}`, region, endpoint);
    }
    for (const canary of family.canaries)
      recordEndpoint(
        (context.endpoints.canaries ??= {}),
        canary.route,
        region,
        withJwt(served.routeUrls[canary.route], `${functionName}-${routeAlias(canary.route)}`),
      );
  }
}

/** ACK's Service annotation choosing an internet or VPC-internal (intranet) load balancer. */
const ACK_LOAD_BALANCER_ADDRESS_TYPE = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type";

/** The Alibaba Cloud mapping of each spec section. */
export const alicloudSteps: ProviderSteps<AlicloudContext> = {
  regions(context) {
    const { spec, args, name, parent } = context;
    for (const [regionName, region] of Object.entries(spec.regions)) {
      const alicloudRegion = region.placement.alicloud!.region;
      const provider = new Provider(resourceName(name, regionName), { region: alicloudRegion }, { parent });
      context.regions.set(regionName, { provider, alicloudRegion });
      const keys = Object.keys(spec.models).filter((key) => spec.models[key].regions.includes(regionName));
      if (keys.length === 0) continue;
      const store = new OssArtifactStore(resourceName(name, regionName, "artifacts"), spec.app, args.root, { parent, provider });
      for (const key of keys)
        context.artifacts.set(`${key}/${regionName}`, store.put(spec.models[key], modelsSpec(spec, [key], regionName, region.placement)));
    }
  },

  gpuPools(context) {
    // On Function Compute a GPU pool is not a resource: each model function
    // carries its pool's GPU type and memory (gpuConfig), and FC schedules it.
    // Pools that ask for Kubernetes become ACK node pools, in every region running their models.
    const { spec, args, name, parent } = context;
    for (const region of ackRegions(spec)) {
      const { provider } = context.regions.get(region)!;
      const keys = ackModelsIn(spec, region);
      const cluster = new AckCluster(
        resourceName(name, region, "ack"),
        { app: spec.app, settings: args.ack![region] },
        { parent, provider },
      );
      const reader = artifactReader(
        resourceName(name, region, "gpu-nodes"),
        "ecs.aliyuncs.com",
        keys.map((key) => context.artifacts.get(`${key}/${region}`)!),
        entryLabels(spec.app, "app", spec.app),
        { parent, provider },
      );
      const poolNames = [...new Set(keys.map((key) => spec.models[key].pool!))].sort();
      const pools = poolNames.map((pool) => cluster.addGpuPool(resourceName(name, pool, region), pool, spec.gpuPools[pool], reader));
      context.clusters.set(region, { cluster, pools, reader });
    }
  },

  scalingPolicies() {
    // Policies attach to each function as provision configs; their schedules
    // were converted to FC's cron syntax before any resource was created.
  },

  models(context) {
    const { spec, args, name, parent } = context;
    for (const region of context.clusters.keys()) placeAckModels(context, region);
    const families = modelFamilies(spec);
    for (const [model, family] of families) placeModelFamily(context, model, family);
    const inFamily = new Set([...families.values()].flatMap((family) => family.keys));
    for (const [key, model] of Object.entries(spec.models)) {
      if (onAck(spec, key) || inFamily.has(key)) continue;
      for (const region of model.regions) {
        const { provider, alicloudRegion } = context.regions.get(region)!;
        const functionName = resourceName(name, modelPart(model.name, model.version), region);
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
          },
          { parent, provider },
        );
        const endpoint = withJwt(served.url, functionName);
        context.models.set(`${key}/${region}`, endpoint);
        recordEndpoint(context.endpoints.models, key, region, endpoint);
      }
    }
  },

  functions(context) {
    const { spec, args, name, parent } = context;
    if (Object.keys(spec.functions).length === 0) return;
    const bundles = pulumi.output(bundleHandlers(args.root, spec.functions, "fc"));
    const runtime = pulumi.output(bundleRuntime()).apply((source) => fcZipBase64({ [RUNTIME_LAYER_PATH]: source }));
    const runtimeLayer = oncePerRegion((region) => {
      const layerName = resourceName(name, region, "runtime");
      return new V3LayerVersion(
        layerName,
        { layerName, code: { zipFile: runtime }, compatibleRuntimes: ["nodejs20"], description: "cloudloom serverless runtime" },
        { parent, provider: context.regions.get(region)!.provider },
      ).layerVersionArn;
    });
    for (const [fnName, fn] of Object.entries(spec.functions)) {
      const zipFile = bundles.apply((sources) => fcZipBase64({ "index.js": sources[fnName] }));
      // A function that calls models mints their JWTs with the gateway's key.
      const signing: Record<string, pulumi.Input<string>> = fn.models.length > 0
        ? { [JWT_KEY_VARIABLE]: pulumi.secret(args.jwtPrivateKey!) }
        : {};
      for (const region of fn.regions) {
        const { provider } = context.regions.get(region)!;
        const functionName = resourceName(name, "fn", fnName, region);
        const endpointOf = (key: string) =>
          context.models.get(`${key}/${region}`) ?? context.models.get(`${key}/${spec.models[key].regions[0]}`)!;
        const created = new FcFunction(
          functionName,
          {
            app: spec.app,
            entry: fnName,
            spec: fn,
            scaling: fn.scaling ? spec.scalingPolicies[fn.scaling] : undefined,
            zipFile,
            runtimeLayer: runtimeLayer(region),
            environment: functionEnvironment(spec, fnName, region, args.secrets, endpointOf, signing),
            jwks: context.jwks,
          },
          { parent, provider },
        );
        recordEndpoint(context.endpoints.functions, fnName, region, withJwt(created.url, functionName));
      }
    }
  },

  gateway() {
    // The gateway is not a cloud resource here: it runs wherever `cloudloom serve
    // --endpoints` runs with CLOUDLOOM_JWT_PRIVATE_KEY, and carries a JWT on every call.
  },
};
