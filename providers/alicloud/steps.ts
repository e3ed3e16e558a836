/** The Alibaba Cloud provider's steps, one per spec section. */
import * as pulumi from "@pulumi/pulumi";
import { V3LayerVersion } from "@pulumi/alicloud/fc";
import { Provider } from "@pulumi/alicloud/provider";
import { RUNTIME_ENV } from "../../runtime/contract";
import type { ProviderSteps } from "../provider";
import { fcZipBase64, serverlessPackages } from "../shared/bundle";
import { recordEndpoint } from "../shared/endpoints";
import { functionEnvironment } from "../shared/function-env";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import { oncePerRegion } from "../shared/once-per-region";
import { modelsSpec } from "../shared/sub-spec";
import { AckCluster } from "./ack";
import { ackModelsIn, onAck, placeAckModels } from "./ack-models";
import { ackRegions } from "./ack-settings";
import { artifactReader } from "./artifact-reader";
import { OssArtifactStore } from "./artifacts";
import { modelFamilies, placeModelFamily } from "./canary-models";
import { withJwt, type AlicloudContext } from "./context";
import { FcFunction } from "./function";
import { FcModel } from "./model";

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
      // A function that calls models mints their JWTs with the gateway's key.
      const signing: Record<string, pulumi.Input<string>> = fn.models.length > 0
        ? { [RUNTIME_ENV.jwtPrivateKey]: pulumi.secret(args.jwtPrivateKey!) }
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
