/**
 * `AwsApp`: a whole cloudloom app on AWS. One explicit `aws.Provider` per
 * declared region; functions on Lambda, CPU models on SageMaker Serverless,
 * GPU models on EKS node groups behind an IAM-authenticated API, and the
 * gateway on ECS Fargate behind a public load balancer in each region. Everything
 * that can be refused is refused before any resource is registered.
 *
 * @example
 * const app = new AwsApp("support-desk", {
 *   spec,                     // app.toSpec({ target: "aws" })
 *   root: "examples/support-desk",
 *   networks: { central: { vpcId: "vpc-0a1b", subnetIds: ["subnet-1", "subnet-2"] } },
 * });
 * export const endpoints = app.endpoints;
 */
import * as pulumi from "@pulumi/pulumi";
import { SpecError, toCanonicalJson, validate, type EndpointsMap, type SpecV1 } from "../../sdk/spec";
import { runSteps } from "../provider";
import { TargetConfigError } from "../shared/config-error";
import { checkStackToken } from "../shared/stack-token";
import { endCron } from "../shared/cron";
import { checkSecrets, type SecretSettings } from "../shared/function-env";
import type { TracingSettings } from "../shared/tracing";
import type { AwsGatewaySettings } from "./gateway-settings";
import { gpuInstanceType } from "./instance-types";
import type { AwsNetwork } from "./networks";
import type { AwsContext } from "./context";
import { awsSteps } from "./steps";

/** Inputs of an AWS app. */
export interface AwsAppArgs {
  /** The app's Spec v1. It is validated for the aws target before anything is created. */
  spec: SpecV1;
  /** The app's directory: handler modules and model artifacts are relative to it. */
  root: string;
  /** VPC networks of the regions that run GPU models (see networks.ts). */
  networks: Record<string, AwsNetwork>;
  /** The cloudloom runtime image in ECR, for SageMaker (required when the app has CPU models). */
  sagemakerImage?: string;
  /** The cloudloom runtime image model servers on EKS and the gateway on ECS run. @default "ghcr.io/cloudloom/runtime:0.1.0" */
  runtimeImage?: string;
  /**
   * The image holding the app's function handlers and the runtime, which Wavelength regions run as
   * containers (there is no Lambda there). @default runtimeImage
   */
  functionImage?: string;
  /** The secrets functions declare: their names (checked before creation) and their values. */
  secrets?: SecretSettings;
  /** Days of function and gateway logs to keep. @default 14 */
  logRetentionDays?: number;
  /**
   * IPv4 CIDRs the EKS API endpoint is public to (`cloudloom:clusterApiCidrs`).
   * @default the gateway settings' `clusterApiCidrs`, else none: the endpoint is private to the VPC
   */
  clusterApiCidrs?: string[];
  /** The gateway's TLS, DNS, Redis token and API keys (parseGatewaySettings reads them from stack config). */
  gateway?: AwsGatewaySettings;
  /** Addresses subscribed to the alarms' SNS topics (stack config `cloudloom:alertEmails`). @default [] */
  alertEmails?: string[];
  /**
   * Export spans from every function, model and gateway (stack config `cloudloom:tracing`); the
   * export headers reach each through Secrets Manager. @default off
   */
  tracing?: TracingSettings;
  /**
   * The token Lambda functions' reports of their calls to held EKS models carry, which every gateway
   * accepts them with (`cloudloom:demandToken`, a secret, 16+ characters); absent, one is generated once.
   */
  demandToken?: pulumi.Input<string>;
}

function checkBeforeCreate(args: AwsAppArgs): void {
  const result = validate(args.spec, { target: "aws" });
  if (!result.ok) throw new SpecError(String((args.spec as { app?: unknown })?.app), result.problems);
  // A token known now is checked now; one from stack config (an Output) when it resolves (metrics-token.ts).
  if (typeof args.gateway?.metricsToken === "string") checkStackToken("metricsToken", args.gateway.metricsToken);
  const cpuModels = Object.entries(args.spec.models).filter(([, model]) => !model.pool);
  if (cpuModels.length > 0 && !args.sagemakerImage)
    throw new TargetConfigError(
      `stack config cloudloom:sagemakerImage is required: CPU models ${cpuModels.map(([key]) => key).join(", ")} run on SageMaker, which pulls the cloudloom runtime from ECR (pulumi config set cloudloom:sagemakerImage <account>.dkr.ecr.<region>.amazonaws.com/cloudloom-runtime:0.1.0)`,
    );
  checkSecrets(args.spec, args.secrets);
  if (typeof args.demandToken === "string") checkStackToken("demandToken", args.demandToken);
  for (const pool of Object.values(args.spec.gpuPools)) gpuInstanceType(pool);
  for (const policy of Object.values(args.spec.scalingPolicies)) policy.schedules.forEach(endCron);
}

/** A cloudloom app on AWS, typed `cloudloom:aws:App`. */
export class AwsApp extends pulumi.ComponentResource {
  /** Every endpoint the gateway needs, per region, with the SigV4 signing each needs. */
  readonly endpoints: pulumi.Output<EndpointsMap>;
  /**
   * Where clients reach the gateway: `http(s)://<cloudloom:gatewayDomain>` with a DNS zone,
   * else the central region's load balancer (`http(s)://<its DNS name>`).
   */
  readonly gatewayUrl: pulumi.Output<string>;
  /** By Wavelength region: `http://<carrier IP>:<node port>`, where that carrier's clients reach the region's own gateway. */
  readonly edgeGatewayUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: AwsAppArgs, opts: pulumi.ComponentResourceOptions = {}) {
    checkBeforeCreate(args);
    super("cloudloom:aws:App", name, { spec: toCanonicalJson(args.spec) }, opts);
    const context: AwsContext = {
      name,
      spec: args.spec,
      args,
      parent: this,
      regions: new Map(),
      clusters: new Map(),
      accessLogs: new Map(),
      artifacts: new Map(),
      models: new Map(),
      functions: new Map(),
      monitored: new Map(),
      edgeGateways: new Map(),
      endpoints: { functions: {}, models: {} },
      queues: new Map(),
      runtimeLayers: new Map(),
    };
    runSteps(awsSteps, context);
    this.endpoints = pulumi.output(context.endpoints) as pulumi.Output<EndpointsMap>;
    this.gatewayUrl = context.gatewayUrl!;
    this.edgeGatewayUrls = pulumi.output(Object.fromEntries(context.edgeGateways));
    this.registerOutputs({ endpoints: this.endpoints, gatewayUrl: this.gatewayUrl, edgeGatewayUrls: this.edgeGatewayUrls });
  }
}
