/**
 * The gateway on Alibaba Cloud: in each region that declares it (stack
 * config `cloudloom:gatewayNetwork.<region>`), an FC 3.0 custom-container
 * function running `cloudloom serve` from the runtime image, many requests
 * per instance, in the region's VPC, with one instance always provisioned
 * and an anonymous HTTP trigger on `live` (the gateway is the public front
 * and checks API keys itself). Its spec, the stack's endpoints map and its
 * settings (the region's Redis) are files in a private OSS bucket mounted
 * read-only, its access logged to the region's log bucket. The JWT key is
 * not in its configuration: it gets the name of the region's KMS secret and
 * a role that may read exactly that secret, and reads it at startup; the API
 * keys and the metrics token are KMS secrets it reads the same way.
 * Each gateway has its own Tair (Redis) instance in the VPC, reachable only
 * from the VPC's CIDR, over TLS, with a password. With `cloudloom:dnsDomain`,
 * an FC custom domain and an Alibaba Cloud DNS CNAME per gateway region, on
 * that region's resolution line, send clients to their nearest gateway.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { getAccountOutput } from "@pulumi/alicloud";
import { AlidnsRecord } from "@pulumi/alicloud/dns";
import { V3CustomDomain, V3Function, V3Trigger, type V3FunctionArgs } from "@pulumi/alicloud/fc";
import { Instance } from "@pulumi/alicloud/kvstore";
import { Bucket, BucketObject } from "@pulumi/alicloud/oss";
import { CONTAINER_PORT, gatewayServeArgs, HEALTH_PATHS, RUNTIME_ENTRYPOINT, RUNTIME_ENV } from "../../runtime/contract";
import { toCanonicalJson, type SpecV1 } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { LaterUrls } from "../shared/later-urls";
import { resourceName } from "../shared/naming";
import { accessLog } from "./access-logs";
import { artifactReader } from "./artifact-reader";
import type { AlicloudContext } from "./context";
import { gatewayDemandToken } from "./demand-token";
import { fcCpu } from "./function";
import { dnsLines, gatewayDomainUrl, gatewayNetworks, type GatewayNetwork } from "./gateway-settings";
import { allowSecretRead, declaredSecretsEnvironment, derivedSecret, jwtKeyEnvironment, type KmsSecretRef } from "./secrets";
import { grant } from "./ram";
import { configurationRevision, LIVE_ALIAS, provision, publishLive } from "./serving";
import { tracingIn, type AlicloudTracing } from "./tracing";

/** Where the gateway's configuration bucket is mounted: `spec.json`, `endpoints.json` and `config.json`. */
export const GATEWAY_CONFIG_DIR = "/mnt/gateway";

/** Requests one gateway instance serves at once: it is a proxy, waiting on backends, not computing. */
export const GATEWAY_CONCURRENCY = 100;

/** Memory of a gateway instance (1 vCPU). */
const GATEWAY_MEMORY_MB = 2_048;

/** Tair (Redis OSS-compatible) community edition, cluster architecture in proxy mode: one endpoint, and TLS (which standard 5.0 instances cannot enable). */
export const REDIS = {
  instanceType: "Redis",
  engineVersion: "5.0",
  instanceClass: "redis.logic.sharding.1g.2db.0rodb.4proxy.default",
} as const;

/** The port Tair listens on in the VPC. */
export const REDIS_PORT = 6379;

/** The gateway's environment variable that changes whenever a mounted file does, so a new version (and fresh instances) reads them. */
export const GATEWAY_REVISION_ENV = "CLOUDLOOM_GATEWAY_REVISION";

/** Inputs of one region's gateway. */
export interface FcGatewayArgs {
  app: string;
  /** The spec region it runs in. */
  region: string;
  spec: SpecV1;
  /** The stack's endpoints map, as the gateway reads it. */
  endpoints: pulumi.Input<object>;
  /** The runtime image in this region's ACR. */
  image: string;
  /** The OSS endpoint of the region (internal). */
  ossEndpoint: string;
  network: GatewayNetwork;
  /** The region's KMS secret holding the JWT private key: the gateway gets its name and may read it. */
  jwtKeySecret: KmsSecretRef;
  /** The region's log bucket, which receives the configuration bucket's access log. */
  logBucket: pulumi.Input<string>;
  redisPassword: pulumi.Input<string>;
  /** The KMS secret holding the API keys the gateway accepts, when the stack sets them. */
  apiKeysSecret?: KmsSecretRef;
  /** The KMS secret holding the token its `/metrics` and `/metrics/demand` require: its trigger is public. */
  metricsTokenSecret: KmsSecretRef;
  /** The FC functions (of asynchronous functions and queued model versions) whose tasks the gateway reads for its status endpoint (their ARNs). */
  asyncFunctions?: pulumi.Input<string>[];
  /** Where the gateway exports its spans: plain variables, and the headers' KMS secret by variable. @default no tracing */
  tracing?: AlicloudTracing;
  /** The KMS secret of the token functions' demand reports carry (demand-token.ts), when some function reports. */
  demandTokenSecret?: KmsSecretRef;
}

/** A password Tair accepts (8–32 characters of at least three kinds), derived from a secret so it is stable across runs and never stored in config. */
export function derivedRedisPassword(secret: string, label: string): string {
  return `Cl-${derivedSecret(secret, `redis:${label}`).slice(0, 26)}`;
}

/** One region's gateway, typed `cloudloom:alicloud:Gateway`. */
export class FcGateway extends pulumi.ComponentResource {
  /** The anonymous trigger's internet URL. */
  readonly url: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: FcGatewayArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:alicloud:Gateway", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "gateway", args.region);
    const { network } = args;

    const redis = new Instance(
      `${name}-redis`,
      {
        dbInstanceName: `${name}-redis`,
        ...REDIS,
        paymentType: "PostPaid",
        vswitchId: network.vswitchIds[0],
        securityIps: [network.vpcCidr],
        vpcAuthMode: "Open",
        password: pulumi.secret(args.redisPassword),
        sslEnable: "Enable",
        tags,
      },
      child,
    );
    const settings = pulumi.secret(
      pulumi
        .all([redis.connectionDomain, args.redisPassword])
        .apply(([host, password]) =>
          JSON.stringify({ redis: { url: `rediss://:${encodeURIComponent(password)}@${host}:${REDIS_PORT}` } }, null, 2),
        ),
    );
    const files: Record<string, pulumi.Input<string>> = {
      "spec.json": toCanonicalJson(args.spec),
      "endpoints.json": pulumi.output(args.endpoints).apply((endpoints) => JSON.stringify(endpoints, null, 2)),
      "config.json": settings,
    };

    const bucket = new Bucket(
      `${name}-config`,
      {
        acl: "private",
        serverSideEncryptionRule: { sseAlgorithm: "KMS" },
        versioning: { status: "Enabled" },
        logging: accessLog(args.logBucket, "gateway-config"),
        forceDestroy: true,
        tags,
      },
      child,
    );
    const objects = Object.entries(files).map(
      ([key, content]) =>
        new BucketObject(
          `${name}-${key.replace(".json", "")}`,
          { bucket: bucket.bucket, key, content, contentType: "application/json", serverSideEncryption: "KMS" },
          child,
        ),
    );
    const { role, attached } = artifactReader(
      name,
      "fc.aliyuncs.com",
      [{ bucket: bucket.bucket, prefix: "/", objectsResource: pulumi.interpolate`acs:oss:*:*:${bucket.bucket}/*` }],
      tags,
      child,
    );
    const kms = {
      ...(args.apiKeysSecret ? { [RUNTIME_ENV.apiKeys]: args.apiKeysSecret } : {}),
      [RUNTIME_ENV.metricsToken]: args.metricsTokenSecret,
      ...args.tracing?.kms,
      ...(args.demandTokenSecret ? { [RUNTIME_ENV.demandToken]: args.demandTokenSecret } : {}),
    };
    const secretRead = allowSecretRead(name, role, [args.jwtKeySecret, ...Object.values(kms)], tags, child);
    const taskRead = args.asyncFunctions?.length
      ? [grant(name, "async-tasks", role, ["fc:GetAsyncTask"], args.asyncFunctions, tags, child)]
      : [];
    // A digest of secret values reveals none of them.
    const revision = pulumi.unsecret(
      pulumi.all(Object.values(files)).apply((contents) => createHash("sha256").update(contents.join("\0")).digest("hex").slice(0, 16)),
    );
    const environment: Record<string, pulumi.Input<string>> = {
      // The name of the KMS secret holding the JWT key, never the key: the gateway reads it with its role at startup.
      ...jwtKeyEnvironment(args.jwtKeySecret),
      [GATEWAY_REVISION_ENV]: revision,
      // The gateway serves its own region's clients from that region's backends first.
      [RUNTIME_ENV.region]: args.region,
      ...args.tracing?.environment,
      // The API keys, the metrics token and the tracing headers, like the JWT key, by the name of their KMS secret.
      ...declaredSecretsEnvironment(kms),
    };
    const configuration: V3FunctionArgs = {
      functionName: name,
      runtime: "custom-container",
      handler: "index.handler",
      customContainerConfig: {
        image: args.image,
        port: CONTAINER_PORT,
        entrypoints: [...RUNTIME_ENTRYPOINT],
        commands: [...gatewayServeArgs(GATEWAY_CONFIG_DIR), "--config", `${GATEWAY_CONFIG_DIR}/config.json`],
        healthCheckConfig: { httpGetUrl: HEALTH_PATHS.ready, initialDelaySeconds: 1, periodSeconds: 5, failureThreshold: 3 },
      },
      memorySize: GATEWAY_MEMORY_MB,
      cpu: fcCpu(GATEWAY_MEMORY_MB),
      diskSize: 512,
      timeout: 60,
      instanceConcurrency: GATEWAY_CONCURRENCY,
      // Backends are FC triggers on the internet; Redis is in the VPC.
      internetAccess: true,
      role: role.arn,
      vpcConfig: { vpcId: network.vpcId, vswitchIds: network.vswitchIds, securityGroupId: network.securityGroupId },
      ossMountConfig: {
        mountPoints: [
          {
            bucketName: bucket.bucket,
            bucketPath: "/",
            endpoint: args.ossEndpoint,
            mountDir: GATEWAY_CONFIG_DIR,
            readOnly: true,
          },
        ],
      },
      // The environment holds the API keys: Pulumi keeps it encrypted.
      environmentVariables: pulumi.secret(pulumi.all(environment)),
      tags,
    };
    const fn = new V3Function(name, configuration, { ...child, dependsOn: [attached, secretRead, ...taskRead, ...objects] });
    const alias = publishLive(name, fn.functionName, configurationRevision(configuration), child);
    provision(name, fn.functionName, alias, { minInstances: 1, maxInstances: 50, targetUtilization: 70, schedules: [] }, false, child);
    const trigger = new V3Trigger(
      name,
      {
        functionName: fn.functionName,
        triggerName: "http",
        triggerType: "http",
        qualifier: alias.aliasName,
        triggerConfig: JSON.stringify({
          authType: "anonymous",
          methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
          disableURLInternet: false,
        }),
      },
      child,
    );
    this.functionName = fn.functionName;
    this.url = trigger.httpTrigger.apply((http) => http.urlInternet);
    this.registerOutputs({ url: this.url });
  }
}

/** Inputs of the gateway step that stack config supplies. */
export interface AlicloudGatewaySettings {
  /** Per spec region that runs a gateway: its network. */
  gatewayNetwork?: Record<string, GatewayNetwork>;
  /** Password of the gateways' Redis; derived from the JWT key when absent. */
  redisPassword?: pulumi.Input<string>;
  /** API keys the gateways accept (kept in KMS; a gateway gets only the secret's name). */
  apiKeys?: pulumi.Input<pulumi.Input<string>[]>;
  /** The token the gateways' `/metrics` and `/metrics/demand` take (16+ characters; kept in KMS); derived from the JWT key when absent. */
  metricsToken?: pulumi.Input<string>;
  /** A zone in Alibaba Cloud DNS: clients resolve `<dnsRecord>.<dnsDomain>` to their nearest gateway. */
  dnsDomain?: string;
  /** The host record in that zone (default "api"). */
  dnsRecord?: string;
  /** The SSL Certificates Service id of the host's certificate, for HTTPS on the custom domain. */
  dnsCertificateId?: string;
}

/**
 * The gateways whose demand (DEMAND_PATH) KEDA on an ACK cluster reads, so a
 * request a gateway holds wakes a model from zero: every gateway region's
 * public HTTPS trigger (FC's own certificate names its host), which the
 * cluster reaches as it reaches KEDA's and Prometheus's public images. Each
 * region's gateway counts only the requests it holds itself; KEDA wakes the
 * model when any of them holds one.
 */
export function demandGateways(context: AlicloudContext): pulumi.Output<string>[] {
  context.gatewayAddresses ??= new LaterUrls(Object.keys(gatewayNetworks(context.spec, context.args.gatewayNetwork)));
  return context.gatewayAddresses.all();
}

/** The gateway step: a gateway per region that declares one, and the DNS records that send clients to the nearest. */
export function placeGateway(context: AlicloudContext): void {
  context.gatewayUrl = placeGateways(context);
}

function placeGateways(context: AlicloudContext): pulumi.Output<string> {
  const { spec, args, name, parent } = context;
  const networks = gatewayNetworks(spec, args.gatewayNetwork);
  const regions = Object.keys(networks);
  const lines = args.dnsDomain ? dnsLines(regions, networks) : undefined;
  const endpoints = pulumi.output(context.endpoints);
  const routed: pulumi.Output<string>[] = [];
  const urls = regions.map((region) => {
    const { provider, alicloudRegion } = context.regions.get(region)!;
    const gatewayName = resourceName(name, "gateway", region);
    const gateway = new FcGateway(
      gatewayName,
      {
        app: spec.app,
        region,
        spec,
        endpoints,
        image: args.runtimeImage!.replaceAll("{region}", alicloudRegion),
        ossEndpoint: `oss-${alicloudRegion}-internal.aliyuncs.com`,
        network: networks[region],
        jwtKeySecret: context.jwtKeySecret(region),
        logBucket: context.logBucket(region),
        redisPassword: args.redisPassword
          ? pulumi.secret(args.redisPassword)
          : pulumi.secret(pulumi.output(args.jwtPrivateKey!).apply((key) => derivedRedisPassword(key, `${spec.app}/${region}`))),
        apiKeysSecret: args.apiKeys ? context.apiKeysSecret(region, args.apiKeys) : undefined,
        metricsTokenSecret: context.metricsTokenSecret(region),
        asyncFunctions: [...context.queues.values()].map((queue) => queue.functionArn),
        tracing: tracingIn(context, region),
        demandTokenSecret: gatewayDemandToken(context, region),
      },
      { parent, provider },
    );
    if (args.dnsDomain) {
      const host = `${args.dnsRecord ?? "api"}.${args.dnsDomain}`;
      const child = { parent: gateway, provider };
      const domain = new V3CustomDomain(
        gatewayName,
        {
          customDomainName: host,
          protocol: args.dnsCertificateId ? "HTTPS" : "HTTP",
          certificateId: args.dnsCertificateId,
          routeConfig: {
            routes: [
              {
                path: "/*",
                functionName: gateway.functionName,
                qualifier: LIVE_ALIAS,
                methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
              },
            ],
          },
        },
        child,
      );
      const account = getAccountOutput({ provider, parent: gateway });
      const record = new AlidnsRecord(
        gatewayName,
        {
          domainName: args.dnsDomain,
          rr: args.dnsRecord ?? "api",
          type: "CNAME",
          value: pulumi.interpolate`${account.id}.${alicloudRegion}.fc.aliyuncs.com`,
          line: lines!.get(region)!,
          ttl: 600,
          remark: `cloudloom gateway ${spec.app} ${region}`,
        },
        child,
      );
      routed.push(domain.id, record.id);
    }
    context.gatewayAddresses?.resolve(region, gateway.url);
    return gateway.url;
  });
  const host = gatewayDomainUrl(args);
  if (!host) return urls[0];
  // Known once every region's custom domain and record exist.
  return pulumi.all([...urls, ...routed]).apply(() => host);
}
