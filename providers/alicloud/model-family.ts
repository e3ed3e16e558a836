/**
 * Several versions of one model in one region as ONE FC function, so that
 * an FC alias can split traffic between them with the spec's weights
 * (`additionalVersionWeight`). The function mounts the model's whole OSS
 * prefix and serves `<name>@{version}`, the version its environment names.
 * Each model version is a published FC version, published in order by
 * `FcVersionPublish` (set CLOUDLOOM_MODEL_VERSION, publish); each version
 * gets a trigger of its own (pinned calls), and each route that splits the
 * model gets an alias with the route's weights and a trigger on it. A
 * version an asynchronous route queues gets FC's asynchronous invocation on
 * its published version, the qualifier of its own trigger (queues.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { getAccountOutput } from "@pulumi/alicloud";
import { V3Alias, V3Function } from "@pulumi/alicloud/fc";
import { RUNTIME_ENV } from "../../runtime/contract";
import {
  asyncEntryKey,
  fcCanaries,
  type FcCanary,
  type GpuPoolSpec,
  type ModelSpec,
  type ScalingPolicySpec,
  type SpecV1,
} from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { recordEndpoint } from "../shared/endpoints";
import { dnsSafe } from "../shared/naming";
import { artifactReader } from "./artifact-reader";
import type { OssArtifact } from "./artifacts";
import { withJwt, type AlicloudContext } from "./context";
import { offEns } from "./ens-settings";
import { modelFunctionConfiguration, MOUNT_DIR } from "./model-container";
import { fcModelFunctionName, invokeAsynchronously, queueHere, recordQueueEndpoint, type PlacedFcQueue } from "./queues";
import { configurationRevision, jwtTrigger, provision } from "./serving";
import { allowSecretRead } from "./secrets";
import { tracingIn, tracingVariables, type AlicloudTracing } from "./tracing";
import { FcVersionPublish } from "./version-publisher";

/** Inputs of one model's canaried versions in one region. */
export interface FcModelFamilyArgs {
  app: string;
  region: string;
  /** The versions, in publishing order; they share pool, memory, scaling and regions. */
  versions: ModelSpec[];
  pool?: GpuPoolSpec;
  scaling?: ScalingPolicySpec;
  /** Each version's artifact, by version. */
  artifacts: Record<string, OssArtifact>;
  image: string;
  ossEndpoint: string;
  /** FC's API endpoint in the region, `<account id>.<region>.fc.aliyuncs.com`. */
  fcApiEndpoint: pulumi.Input<string>;
  /** The routes that split this model here. */
  canaries: FcCanary[];
  jwks: pulumi.Input<object>;
  /** By version: its asynchronous queue, when a route queues it and this is its home region. */
  queues?: Record<string, PlacedFcQueue>;
  /** Where the model's server exports its spans. @default no tracing */
  tracing?: AlicloudTracing;
}

/** FC's alias name for a route: letters, digits, `-` and `_`, starting with a letter. */
const routeAlias = (route: string) => `route-${dnsSafe(route.toLowerCase())}`.slice(0, 128);

/** A model's versions behind one FC function, typed `cloudloom:alicloud:ModelFamily`. */
export class FcModelFamily extends pulumi.ComponentResource {
  /** Each version's trigger URL (calls pinned to that version), by version. */
  readonly versionUrls: Record<string, pulumi.Output<string>> = {};
  /** Each splitting route's alias trigger URL, by route key. */
  readonly routeUrls: Record<string, pulumi.Output<string>> = {};
  /** Each version's published FC version id, by version: the qualifier of its trigger and of its asynchronous invocation. */
  readonly versionIds: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: FcModelFamilyArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:alicloud:ModelFamily", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const first = args.versions[0];
    const last = args.versions[args.versions.length - 1];
    const tags = entryLabels(args.app, "model", first.name);
    const artifacts = args.versions.map((model) => args.artifacts[model.version]);
    const { role, attached } = artifactReader(name, "fc.aliyuncs.com", artifacts, tags, child);
    const modelPrefix = artifacts[0].prefix.slice(0, artifacts[0].prefix.lastIndexOf("/"));
    const traced = tracingVariables(args.tracing);
    const secretRead = traced.secrets.length > 0 ? [allowSecretRead(name, role, traced.secrets, tags, child)] : [];
    // Each published version's whole environment (FC replaces the map).
    const environment = (version: string) => ({ ...traced.environment, [RUNTIME_ENV.modelVersion]: version });
    const configuration = modelFunctionConfiguration(name, {
      model: first,
      key: `${first.name}@{version}`,
      region: args.region,
      pool: args.pool,
      image: args.image,
      roleArn: role.arn,
      mount: { bucket: artifacts[0].bucket, prefix: modelPrefix, endpoint: args.ossEndpoint },
      servingDir: `${MOUNT_DIR}/{version}`,
      tags,
      // After a deployment the function's own configuration serves the last version.
      environment: environment(last.version),
    });
    const fn = new V3Function(name, configuration, { ...child, dependsOn: [attached, ...secretRead] });
    const revision = configurationRevision(configuration);
    const versionIds: Record<string, pulumi.Output<string>> = {};
    let previous: pulumi.Resource = fn;
    for (const model of args.versions) {
      const published = new FcVersionPublish(
        `${name}-v${model.version}`,
        {
          endpoint: args.fcApiEndpoint,
          functionName: fn.functionName,
          environment: environment(model.version),
          description: pulumi.interpolate`cloudloom ${model.name}@${model.version} revision ${revision}`,
        },
        { parent: this, dependsOn: [previous] },
      );
      previous = published;
      versionIds[model.version] = published.versionId;
      const queue = args.queues?.[model.version];
      if (queue) invokeAsynchronously(`${name}-v${model.version}`, fn.functionName, published.versionId, queue, role, tags, child);
      this.versionUrls[model.version] = jwtTrigger(
        `${name}-v${model.version}`,
        fn.functionName,
        published.versionId,
        args.jwks,
        child,
        `http-v${dnsSafe(model.version)}`,
      );
    }
    for (const canary of args.canaries) this.routeUrls[canary.route] = this.split(name, fn, canary, versionIds, args, child);
    Object.assign(this.versionIds, versionIds);
    this.registerOutputs({ versionUrls: this.versionUrls, routeUrls: this.routeUrls });
  }

  /** The route's alias: its heaviest version, the others by weight; provisioned from the scaling policy; with a trigger. */
  private split(
    name: string,
    fn: V3Function,
    canary: FcCanary,
    versionIds: Record<string, pulumi.Output<string>>,
    args: FcModelFamilyArgs,
    child: pulumi.CustomResourceOptions,
  ): pulumi.Output<string> {
    const [primary, ...others] = Object.keys(canary.weights).sort((a, b) => canary.weights[b] - canary.weights[a] || a.localeCompare(b));
    const aliasName = routeAlias(canary.route);
    const aliasResource = `${name}-${aliasName}`;
    const alias = new V3Alias(
      aliasResource,
      {
        functionName: fn.functionName,
        aliasName,
        versionId: versionIds[primary],
        additionalVersionWeight: pulumi
          .all(others.map((version) => versionIds[version]))
          .apply((ids) => Object.fromEntries(ids.map((id, i) => [id, canary.weights[others[i]] / 100]))),
        description: `cloudloom route ${canary.route}`,
      },
      child,
    );
    if (args.scaling) provision(aliasResource, fn.functionName, alias, args.scaling, Boolean(args.pool), child);
    return jwtTrigger(aliasResource, fn.functionName, alias.aliasName, args.jwks, child, `http-${aliasName}`.slice(0, 128));
  }
}

/** By model name: the versions (keys, in version order) that FC aliases split, and the routes that split them. */
export function modelFamilies(spec: SpecV1): Map<string, { keys: string[]; canaries: FcCanary[] }> {
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
export function placeModelFamily(context: AlicloudContext, model: string, family: { keys: string[]; canaries: FcCanary[] }): void {
  const { spec, args, parent } = context;
  const versions = family.keys.map((key) => spec.models[key]);
  for (const region of versions[0].regions.filter(offEns(context.spec))) {
    const { provider, alicloudRegion } = context.regions.get(region)!;
    const functionName = fcModelFunctionName(context, family.keys[0], region);
    const queues = Object.fromEntries(
      versions.flatMap((m) => {
        const queue = queueHere(context, "model", `${m.name}@${m.version}`, region);
        return queue ? [[m.version, queue] as const] : [];
      }),
    );
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
        queues,
        tracing: tracingIn(context, region),
      },
      { parent, provider },
    );
    for (const version of Object.keys(queues))
      recordQueueEndpoint(context, asyncEntryKey("model", `${model}@${version}`), region, functionName, served.versionIds[version]);
    for (const version of versions) {
      const endpoint = withJwt(served.versionUrls[version.version], `${functionName}-v${version.version}`);
      context.models.set(`${model}@${version.version}/${region}`, endpoint);
      // CloudMonitor reports the function, all its versions together.
      context.monitored.set(`${model}@${version.version}/${region}`, { functionName, alicloudRegion });
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
