/** What the AWS steps share while building one app, and how its endpoints are signed. */
import * as pulumi from "@pulumi/pulumi";
import type { Provider } from "@pulumi/aws/provider";
import type { Endpoint, SpecV1 } from "../../sdk/spec";
import type { EndpointsBuilder } from "../shared/endpoints";
import type { LaterUrls } from "../shared/later-urls";
import { resourceName } from "../shared/naming";
import { AccessLogs } from "./access-logs";
import type { CloudWatchSource } from "./alerts";
import type { AwsAppArgs } from "./app";
import type { StoredArtifact } from "./artifacts";
import type { EksCluster } from "./cluster";
import type { EksGpuPool } from "./gpu-pool";

/** One declared region on AWS. */
export interface AwsRegion {
  provider: Provider;
  /** The AWS region (a Local Zone region runs in its parent region). */
  awsRegion: string;
}

/** Where a model version is served in one region, and how callers are authorized. */
export interface ServedModel {
  endpoint: pulumi.Output<Endpoint>;
  access: { kind: "sagemaker" | "execute-api"; arn: pulumi.Output<string> };
}

/** An asynchronous entry's SQS queue (a function's, or a model version's) and the DynamoDB table of its invocations, in its home region. */
export interface PlacedQueue {
  region: string;
  queueArn: pulumi.Output<string>;
  queueUrl: pulumi.Output<string>;
  tableArn: pulumi.Output<string>;
  tableName: pulumi.Output<string>;
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
  /** By `<function>/<region>`: the ARN of the `live` alias its Function URL serves. */
  functions: Map<string, pulumi.Output<string>>;
  /** By `<function or model key>/<region>`: where CloudWatch keeps its metrics, for the alarms of its objectives. */
  monitored: Map<string, CloudWatchSource>;
  /** By asynchronous entry (`asyncEntryKey`): its queue and invocation table (set by the queues step). */
  queues: Map<string, PlacedQueue>;
  /** By spec region: the ARN of the cloudloom runtime layer, which functions and model job workers require (runtimeLayerIn). */
  runtimeLayers: Map<string, pulumi.Output<string>>;
  endpoints: EndpointsBuilder;
  /** By spec region: the access-log bucket (see accessLogsIn). */
  accessLogs: Map<string, AccessLogs>;
  /** By Wavelength region: its gateway's URL on the zone's carrier IP (edge-zone.ts). */
  edgeGateways: Map<string, pulumi.Output<string>>;
  /** The gateway's public URL (set by the gateway step). */
  gatewayUrl?: pulumi.Output<string>;
  /** Each gateway region's load balancer URL, for the EKS models' autoscalers, once a step asked (see demandGateways). */
  gatewayAddresses?: LaterUrls;
  /** The stack's metrics token, once a step asked (see metrics-token.ts). */
  metricsToken?: pulumi.Output<string>;
}

/** An endpoint at `url` that takes SigV4-signed calls for `service` in `region`. */
export const signed = (url: pulumi.Input<string>, service: string, region: string): pulumi.Output<Endpoint> =>
  pulumi.output(url).apply((resolved) => ({ url: resolved, exact: true, sigv4: { service, region } }));

/** The access-log bucket of `region`, created on first use. */
export function accessLogsIn(context: AwsContext, region: string): AccessLogs {
  let logs = context.accessLogs.get(region);
  if (!logs) {
    const { provider, awsRegion } = context.regions.get(region)!;
    logs = new AccessLogs(
      resourceName(context.name, region, "access-logs"),
      { app: context.spec.app, awsRegion },
      { parent: context.parent, provider },
    );
    context.accessLogs.set(region, logs);
  }
  return logs;
}

/** The models of `region` served on GPU pools (`gpu`) or on CPU, by key. */
export function modelsIn(spec: SpecV1, region: string, gpu: boolean): string[] {
  return Object.keys(spec.models)
    .filter((key) => spec.models[key].regions.includes(region) && Boolean(spec.models[key].pool) === gpu)
    .sort();
}
