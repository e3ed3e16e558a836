/**
 * `AlicloudApp`: a whole cloudloom app on Alibaba Cloud. One explicit
 * `alicloud.Provider` per declared region (Alibaba resources carry no region
 * of their own); functions on Function Compute 3.0, models on FC GPU (or
 * CPU) functions running the cloudloom runtime container, or on ACK GPU node
 * pools for pools that ask for Kubernetes; artifacts in OSS. Every endpoint
 * requires the gateway's JWT. Everything that can be
 * refused is refused before any resource is registered.
 *
 * @example
 * const app = new AlicloudApp("support-desk", {
 *   spec,                                 // app.toSpec({ target: "alicloud" })
 *   root: "examples/support-desk",
 *   runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
 *   jwtPrivateKey: config.requireSecret("jwtPrivateKey"),
 * });
 */
import * as pulumi from "@pulumi/pulumi";
import { poolPlatform, SpecError, toCanonicalJson, validate, type EndpointsMap, type SpecV1 } from "../../sdk/spec";
import { publicJwks } from "../shared/jwks";
import { runSteps } from "../provider";
import { TargetConfigError } from "../shared/config-error";
import { checkStackToken } from "../shared/stack-token";
import { endCron } from "../shared/cron";
import { checkSecrets, type SecretSettings } from "../shared/function-env";
import { checkAckSettings, type AckSettings } from "./ack-settings";
import { checkEnsSettings, ensRegions, type EnsSettings } from "./ens-settings";
import type { AlicloudGatewaySettings } from "./gateway";
import { checkGatewayNetwork, dnsLines, gatewayNetworks } from "./gateway-settings";
import { toFcCron } from "./cron";
import { ecsGpuInstanceType } from "./instance-types";
import type { AlicloudContext } from "./context";
import { alicloudSteps } from "./steps";
import { logBuckets } from "./access-logs";
import { appSecrets } from "./secrets";
import type { TracingSettings } from "../shared/tracing";

/** Inputs of an Alibaba Cloud app (the gateway's: `gatewayNetwork`, `redisPassword`, `apiKeys`, `metricsToken`, `dnsDomain`, `dnsRecord`, `dnsCertificateId`). */
export interface AlicloudAppArgs extends AlicloudGatewaySettings {
  /** The app's Spec v1. It is validated for the alicloud target before anything is created. */
  spec: SpecV1;
  /** The app's directory: handler modules and model artifacts are relative to it. */
  root: string;
  /** The cloudloom runtime image in ACR; `{region}` is replaced by each region (FC pulls from its own region). Required for models. */
  runtimeImage?: string;
  /** PEM of the RSA key the gateway signs JWTs with; the triggers get its public half. */
  jwtPrivateKey?: pulumi.Input<string>;
  /** The secrets functions declare. */
  secrets?: SecretSettings;
  /** Per region running Kubernetes-platform GPU pools: the ACK cluster's vSwitches, and a cluster to reuse. */
  ack?: Record<string, AckSettings>;
  /** Addresses in the contact group the alarm rules notify (stack config `cloudloom:alertEmails`). @default [] */
  alertEmails?: string[];
  /** Per ENS region (a placement with `ensRegion`): the image its instances boot and its network. */
  ens?: Record<string, EnsSettings>;
  /** The image holding the app's function handlers and the runtime, which ENS regions run functions from (`{region}` as in runtimeImage). @default runtimeImage */
  functionImage?: string;
  /**
   * Export spans from every function, model and gateway (stack config `cloudloom:tracing`); the
   * export headers reach each through KMS. @default off
   */
  tracing?: TracingSettings;
  /**
   * The token FC functions' reports of their calls to held ACK models carry, which every gateway
   * accepts them with (`cloudloom:demandToken`, a secret, 16+ characters); absent, one is derived from the JWT key.
   */
  demandToken?: pulumi.Input<string>;
}

function checkBeforeCreate(args: AlicloudAppArgs): void {
  const result = validate(args.spec, { target: "alicloud" });
  if (!result.ok) throw new SpecError(String((args.spec as { app?: unknown })?.app), result.problems);
  // A token known now is checked now; one from stack config (an Output) when it resolves (secrets.ts stackTokenOf).
  if (typeof args.metricsToken === "string") checkStackToken("metricsToken", args.metricsToken);
  const models = Object.keys(args.spec.models);
  if (models.length > 0 && !args.runtimeImage)
    throw new TargetConfigError(
      `stack config cloudloom:runtimeImage is required: models ${models.join(", ")} run the cloudloom runtime container on Function Compute (pulumi config set cloudloom:runtimeImage 'registry.{region}.aliyuncs.com/<namespace>/cloudloom-runtime:0.1.0')`,
    );
  if (!args.jwtPrivateKey)
    throw new TargetConfigError(
      "stack config cloudloom:jwtPrivateKey is required: every FC trigger accepts only the gateway's JWTs (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 | pulumi config set --secret cloudloom:jwtPrivateKey)",
    );
  checkSecrets(args.spec, args.secrets);
  if (typeof args.demandToken === "string") checkStackToken("demandToken", args.demandToken);
  checkAckSettings(args.spec, args.ack);
  checkEnsSettings(args.spec, args.ens);
  const edges = ensRegions(args.spec);
  if (edges.length > 0 && !args.runtimeImage)
    throw new TargetConfigError(
      `stack config cloudloom:runtimeImage is required: ENS regions ${edges.join(", ")} run the cloudloom runtime container (pulumi config set cloudloom:runtimeImage 'registry.{region}.aliyuncs.com/<namespace>/cloudloom-runtime:0.1.0')`,
    );
  checkGatewayNetwork(args.spec, args.gatewayNetwork);
  const networks = gatewayNetworks(args.spec, args.gatewayNetwork);
  const gateways = Object.keys(networks);
  if (gateways.length > 0 && !args.runtimeImage)
    throw new TargetConfigError(
      `stack config cloudloom:runtimeImage is required: regions ${gateways.join(", ")} run the gateway from the cloudloom runtime container (pulumi config set cloudloom:runtimeImage 'registry.{region}.aliyuncs.com/<namespace>/cloudloom-runtime:0.1.0')`,
    );
  if (args.dnsDomain) dnsLines(gateways, networks);
  for (const [name, pool] of Object.entries(args.spec.gpuPools))
    if (poolPlatform(pool, "alicloud") === "kubernetes") {
      try {
        ecsGpuInstanceType(pool);
      } catch (error) {
        throw new TargetConfigError(`gpuPools.${name}: ${(error as Error).message}`);
      }
    }
  for (const policy of Object.values(args.spec.scalingPolicies))
    for (const schedule of policy.schedules) [schedule.cron, endCron(schedule)].forEach(toFcCron);
}

/** A cloudloom app on Alibaba Cloud, typed `cloudloom:alicloud:App`. */
export class AlicloudApp extends pulumi.ComponentResource {
  /** Every endpoint the gateway needs, per region, with the JWT each needs. */
  readonly endpoints: pulumi.Output<EndpointsMap>;
  /**
   * Where clients reach the gateway: `<dnsRecord>.<dnsDomain>` when `dnsDomain` is set, else the
   * first central region's anonymous trigger URL.
   */
  readonly gatewayUrl: pulumi.Output<string>;
  /** By ENS region: the instance its own gateway runs on; clients reach `http://<its public IP>:8080`. */
  readonly ensGatewayInstances: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: AlicloudAppArgs, opts: pulumi.ComponentResourceOptions = {}) {
    checkBeforeCreate(args);
    super("cloudloom:alicloud:App", name, { spec: toCanonicalJson(args.spec) }, opts);
    const context: AlicloudContext = {
      name,
      spec: args.spec,
      args,
      parent: this,
      regions: new Map(),
      // Derived from a secret, but public: not kept secret.
      jwks: pulumi.unsecret(pulumi.output(args.jwtPrivateKey!).apply(publicJwks)),
      artifacts: new Map(),
      clusters: new Map(),
      models: new Map(),
      monitored: new Map(),
      endpoints: { functions: {}, models: {} },
      ensGateways: new Map(),
      queues: new Map(),
      jwtKeySecret: (region) => secrets.jwtKey(region),
      functionSecret: (region, secret) => secrets.declared(region, secret),
      apiKeysSecret: (region, keys) => secrets.apiKeys(region, keys),
      tracingHeadersSecret: (region) => secrets.tracingHeaders(region),
      metricsTokenSecret: (region) => secrets.metricsToken(region),
      logBucket: (region) => logs(region),
    };
    const secrets = appSecrets(context);
    const logs = logBuckets(context);
    runSteps(alicloudSteps, context);
    this.endpoints = pulumi.output(context.endpoints) as pulumi.Output<EndpointsMap>;
    this.gatewayUrl = context.gatewayUrl!;
    this.ensGatewayInstances = pulumi.output(Object.fromEntries(context.ensGateways));
    this.registerOutputs({ endpoints: this.endpoints, gatewayUrl: this.gatewayUrl, ensGatewayInstances: this.ensGatewayInstances });
  }
}
