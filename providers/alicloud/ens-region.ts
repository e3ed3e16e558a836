/**
 * A region on an ENS (Edge Node Service) node. ENS sells instances, not
 * Function Compute, so the region's functions and models run as cloudloom
 * runtime containers on its own ENS instances (ens-layout.ts), each requiring
 * the gateway's JWT, and the region's gateway runs on an instance of its own
 * with a public IP, its locality home this region:
 * - the network, vSwitch and security groups (ens-network.ts);
 * - a RAM user whose access key may read exactly the region's model
 *   artifacts in OSS and the KMS secrets its containers need (ENS instances
 *   take no RAM role); the key reaches the instances in their user data;
 * - the instances, Pay-As-You-Go (Spot only for Spot pools at sites that
 *   sell it), booting the stack's image with user data that fetches and
 *   verifies the artifacts and starts the containers (ens-user-data.ts),
 *   each traced with `cloudloom:tracing` (the headers by KMS secret name).
 * Clients reach the gateway at `http://<the gateway instance's public IP>:8080`.
 */
import * as pulumi from "@pulumi/pulumi";
import { Instance } from "@pulumi/alicloud/ens";
import { AccessKey, User, UserPolicyAttachment, type Policy } from "@pulumi/alicloud/ram";
import { gatewayServeArgs, JWT_ENV, JWT_ISSUER, podServeArgs, RUNTIME_ENV } from "../../runtime/contract";
import { resolveEdgeSite, toCanonicalJson, type EndpointsMap, type SpecV1 } from "../../sdk/spec";
import { ARTIFACT_PATH } from "../shared/artifact-fetch";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { regionSpec } from "../shared/sub-spec";
import { artifactReadPolicy } from "./artifact-reader";
import type { AlicloudContext } from "./context";
import { ensLayout, ENS_GATEWAY_PORT, MAX_CONTAINERS_PER_INSTANCE, RUNTIME_PORT_BASE, type EnsHost } from "./ens-layout";
import { EnsNetwork } from "./ens-network";
import { ensRegions } from "./ens-settings";
import { ENS_HOME, ensUserData, type EnsBoot, type EnsContainer } from "./ens-user-data";
import { declaredSecretsEnvironment, jwtKeyEnvironment, secretReadPolicy, secretResources, type KmsSecretRef } from "./secrets";
import { tracingIn, type AlicloudTracing } from "./tracing";

/** Where every container finds the spec (and the gateway its endpoints and settings). */
const CONFIG_DIR = "/config";

/** The values a boot script needs that Pulumi knows only later. */
interface BootValues {
  accessKeyId: string;
  accessKeySecret: string;
  /** The public JWKS, as JSON. */
  jwks: string;
  /** By model key: the artifact's `oss://` URI. */
  artifactUrls: Record<string, string>;
}

/**
 * Stand-ins at least as long as the real values (an AccessKey id and secret are 24 and 30 characters, the JWKS of
 * a 4,096-bit key about 750, a bucket name at most 63), so that the user data's size is checked before anything is created.
 */
function longestValues(keys: string[]): BootValues {
  return {
    accessKeyId: "k".repeat(64),
    accessKeySecret: "s".repeat(64),
    jwks: "j".repeat(1_024),
    artifactUrls: Object.fromEntries(keys.map((key) => [key, `oss://${"b".repeat(63)}/${key}/model.onnx`])),
  };
}

/** Places every ENS region of the app. */
export function placeEnsRegions(context: AlicloudContext): void {
  for (const region of ensRegions(context.spec)) placeEnsRegion(context, region);
}

function placeEnsRegion(context: AlicloudContext, region: string): void {
  const { spec, args, name, parent } = context;
  const { provider, alicloudRegion } = context.regions.get(region)!;
  const site = resolveEdgeSite(spec.regions[region].placement, "alicloud")!;
  const settings = args.ens![region];
  const options = { parent, provider };
  const tags = entryLabels(spec.app, "region", region);
  const sub = regionSpec(spec, region, spec.regions[region].placement);
  const hosts = ensLayout(name, region, sub, site, settings.vswitchCidrBlock);
  const network = new EnsNetwork(
    resourceName(name, region, "ens"),
    {
      app: spec.app,
      region,
      ensRegionId: site.id,
      cidrBlock: settings.cidrBlock,
      vswitchCidrBlock: settings.vswitchCidrBlock,
      gatewayPort: ENS_GATEWAY_PORT,
      runtimePorts: { from: RUNTIME_PORT_BASE, to: RUNTIME_PORT_BASE + MAX_CONTAINERS_PER_INSTANCE - 1 },
    },
    options,
  );

  const secrets = regionSecrets(context, region, sub);
  const keys = Object.keys(sub.models);
  const artifacts = keys.map((key) => context.artifacts.get(`${key}/${region}`)!);
  const userName = resourceName(name, region, "ens");
  const user = new User(
    userName,
    { name: userName, comments: "cloudloom ENS instances: read the region's artifacts and secrets", tags },
    options,
  );
  const attach = (policy: Policy, suffix: string, dependsOn: pulumi.Resource[] = []) =>
    new UserPolicyAttachment(
      `${userName}-${suffix}`,
      { userName: user.name, policyName: policy.policyName, policyType: "Custom" },
      { ...options, dependsOn },
    );
  const attached = [
    ...(artifacts.length > 0 ? [attach(artifactReadPolicy(userName, artifacts, tags, options), "read")] : []),
    attach(secretReadPolicy(userName, secrets.all, tags, options), "secrets", secretResources(secrets.all)),
  ];
  const accessKey = new AccessKey(userName, { userName: user.name }, { ...options, dependsOn: attached });

  const values: pulumi.Output<BootValues> = pulumi.output({
    accessKeyId: accessKey.id,
    accessKeySecret: accessKey.secret,
    jwks: context.jwks.apply((jwks) => JSON.stringify(jwks)),
    artifactUrls: Object.fromEntries(
      keys.map((key, i) => [key, pulumi.interpolate`oss://${artifacts[i].bucket}${artifacts[i].prefix}/model.onnx`]),
    ),
  });
  const image = (template: string) => template.replaceAll("{region}", alicloudRegion);
  const runtimeImage = image(args.runtimeImage!);
  const boot = (host: EnsHost, resolved: BootValues): EnsBoot => ({
    files: host.role === "gateway" ? gatewayFiles(region, sub, hosts) : { [`${ENS_HOME}/config/spec.json`]: toCanonicalJson(sub) },
    credentials: { accessKeyId: resolved.accessKeyId, accessKeySecret: resolved.accessKeySecret },
    // ENS nodes are outside the region's VPC: the public endpoint.
    ossEndpoint: `oss-${alicloudRegion}.aliyuncs.com`,
    containers:
      host.role === "gateway"
        ? [gatewayContainer(name, region, runtimeImage, secrets)]
        : host.entries.map((entry) => {
            const container: EnsContainer = {
              name: entry.container,
              image: entry.kind === "function" ? image(args.functionImage ?? args.runtimeImage!) : runtimeImage,
              publish: { address: host.privateIpAddress, port: entry.port },
              args: [],
              env: {
                [JWT_ENV.jwks]: resolved.jwks,
                [JWT_ENV.issuer]: JWT_ISSUER,
                [JWT_ENV.audience]: entry.container,
                ...secrets.traced.environment,
              },
              mounts: { [`${ENS_HOME}/config`]: CONFIG_DIR },
              gpu: host.role === "gpu-pool",
            };
            if (entry.kind === "model") {
              const model = sub.models[entry.entry];
              return {
                ...container,
                args: podServeArgs({ spec: `${CONFIG_DIR}/spec.json`, only: `model:${entry.entry}`, region, artifact: ARTIFACT_PATH }),
                env: { ...container.env, ...declaredSecretsEnvironment(secrets.traced.kms) },
                artifact: { url: resolved.artifactUrls[entry.entry], sha256: model.artifact.sha256 },
              };
            }
            const fn = sub.functions[entry.entry];
            const calls = fn.models.map((key) => hosts.flatMap((h) => h.entries).find((e) => e.kind === "model" && e.entry === key)!);
            return {
              ...container,
              args: podServeArgs({
                spec: `${CONFIG_DIR}/spec.json`,
                only: `function:${entry.entry}`,
                region,
                root: "/app",
                // The model's endpoint as JSON: the function signs the model's JWT with the gateway's key.
                modelUrls: calls.map((call) => `${call.entry}=${JSON.stringify(call.endpoint)}`),
              }),
              env: { ...container.env, ...literalEnvironment(fn.environment), ...(secrets.byFunction.get(entry.entry) ?? {}) },
            };
          }),
  });

  for (const host of hosts) {
    // Fails here, before anything is created, when even the longest credentials would not fit.
    ensUserData(host.name, boot(host, longestValues(keys)));
    const gateway = host.role === "gateway";
    const instance = new Instance(
      host.name,
      {
        instanceName: host.name,
        instanceType: host.instanceType,
        imageId: settings.imageId,
        ensRegionId: site.id,
        scheduleAreaLevel: "Region",
        paymentType: "PayAsYouGo",
        spotStrategy: host.spotStrategy,
        amount: 1,
        netWorkId: network.networkId,
        vswitchId: network.vswitchId,
        privateIpAddress: host.privateIpAddress,
        securityId: gateway ? network.gatewaySecurityGroupId : network.runtimeSecurityGroupId,
        // Every instance pulls images and reaches OSS and KMS over the internet (the Pulumi ENS module has no
        // SNAT entries for a NAT gateway); only the gateway's security group admits anyone from outside.
        publicIpIdentification: true,
        internetMaxBandwidthOut: gateway ? 100 : 20,
        systemDisk: { category: "cloud_efficiency", size: host.role === "gpu-pool" ? 100 : 40 },
        ...(settings.keyPairName ? { keyPairName: settings.keyPairName } : { passwordInherit: true }),
        // It holds the access key: Pulumi keeps it encrypted.
        userData: pulumi.secret(values.apply((resolved) => ensUserData(host.name, boot(host, resolved)))),
        tags: host.pool ? entryLabels(spec.app, "gpu-pool", host.pool) : entryLabels(spec.app, gateway ? "gateway" : "region", region),
      },
      { ...options, dependsOn: [accessKey] },
    );
    if (gateway) context.ensGateways.set(region, instance.id);
  }
}

/** A region's KMS secrets, and what its containers get of them. */
interface RegionSecrets {
  jwtKey: KmsSecretRef;
  apiKeys?: KmsSecretRef;
  /** The token the region's gateway's metrics take. */
  metricsToken: KmsSecretRef;
  /** By function: its variables naming its secrets (the JWT key, its declared ones, the tracing headers). */
  byFunction: Map<string, Record<string, string>>;
  /** Every secret the region's RAM user may read. */
  all: KmsSecretRef[];
  /** Every container's tracing. */
  traced: AlicloudTracing;
}

/** The KMS secrets of a region's containers: the JWT key (gateway, functions calling models), the API keys, each function's declared secrets, the tracing headers. */
function regionSecrets(context: AlicloudContext, region: string, sub: SpecV1): RegionSecrets {
  const jwtKey = context.jwtKeySecret(region);
  const apiKeys = context.args.apiKeys ? context.apiKeysSecret(region, context.args.apiKeys) : undefined;
  const metricsToken = context.metricsTokenSecret(region);
  const traced = tracingIn(context, region);
  const all = [jwtKey, ...(apiKeys ? [apiKeys] : []), metricsToken, ...Object.values(traced.kms)];
  const byFunction = new Map<string, Record<string, string>>();
  for (const [fnName, fn] of Object.entries(sub.functions)) {
    const declared = Object.fromEntries(
      Object.entries(fn.environment).flatMap(([variable, value]) =>
        typeof value === "string" ? [] : [[variable, context.functionSecret(region, value.secret)] as const],
      ),
    );
    all.push(...Object.values(declared));
    byFunction.set(fnName, {
      ...(fn.models.length > 0 ? jwtKeyEnvironment(jwtKey) : {}),
      ...declaredSecretsEnvironment({ ...declared, ...traced.kms }),
    });
  }
  return { jwtKey, apiKeys, metricsToken, byFunction, all, traced };
}

/** A function's literal variables (its secrets come from KMS by name). */
function literalEnvironment(environment: SpecV1["functions"][string]["environment"]): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).flatMap(([key, value]) => (typeof value === "string" ? [[key, value]] : [])));
}

/** The gateway's spec, its endpoints map (the region's containers, by fixed address) and its settings (its home is this region). */
function gatewayFiles(region: string, sub: SpecV1, hosts: EnsHost[]): Record<string, string> {
  const endpoints: EndpointsMap = { functions: {}, models: {} };
  for (const entry of hosts.flatMap((host) => host.entries))
    (entry.kind === "function" ? endpoints.functions : endpoints.models)[entry.entry] = { [region]: entry.endpoint };
  return {
    [`${ENS_HOME}/config/spec.json`]: toCanonicalJson(sub),
    [`${ENS_HOME}/config/endpoints.json`]: JSON.stringify(endpoints),
    [`${ENS_HOME}/config/config.json`]: JSON.stringify({ locality: { home: region } }),
  };
}

/** The gateway's container: `cloudloom serve` on the region's files, signing backend JWTs with the key it reads from KMS. */
function gatewayContainer(
  name: string,
  region: string,
  image: string,
  secrets: Pick<RegionSecrets, "jwtKey" | "apiKeys" | "metricsToken" | "traced">,
): EnsContainer {
  return {
    name: resourceName(name, "gateway", region),
    image,
    publish: { address: "0.0.0.0", port: ENS_GATEWAY_PORT },
    args: [...gatewayServeArgs(CONFIG_DIR), "--config", `${CONFIG_DIR}/config.json`],
    env: {
      ...jwtKeyEnvironment(secrets.jwtKey),
      [RUNTIME_ENV.region]: region,
      ...secrets.traced.environment,
      ...declaredSecretsEnvironment({
        ...(secrets.apiKeys ? { [RUNTIME_ENV.apiKeys]: secrets.apiKeys } : {}),
        [RUNTIME_ENV.metricsToken]: secrets.metricsToken,
        ...secrets.traced.kms,
      }),
    },
    mounts: { [`${ENS_HOME}/config`]: CONFIG_DIR },
  };
}
