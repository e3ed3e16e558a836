/** What the Alibaba Cloud steps share while building one app, and how its endpoints carry the gateway's JWT. */
import type * as pulumi from "@pulumi/pulumi";
import type { NodePool } from "@pulumi/alicloud/cs";
import type { Provider } from "@pulumi/alicloud/provider";
import type { Endpoint, SpecV1 } from "../../sdk/spec";
import { JWT_ISSUER } from "../../runtime/contract";
import type { EndpointsBuilder } from "../shared/endpoints";
import type { LaterUrls } from "../shared/later-urls";
import type { CloudMonitorSource } from "./alerts";
import type { AckCluster } from "./cluster";
import type { AlicloudAppArgs } from "./app";
import type { ArtifactReader } from "./artifact-reader";
import type { OssArtifact } from "./artifacts";
import type { PlacedFcQueue } from "./queues";
import type { KmsSecretRef } from "./secrets";

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
  /** By `<function or model key>/<region>`: the FC function CloudMonitor reports it under (ACK models have none). */
  monitored: Map<string, CloudMonitorSource>;
  endpoints: EndpointsBuilder;
  /** By asynchronous entry (`asyncEntryKey`): its queue (set by the queues step). */
  queues: Map<string, PlacedFcQueue>;
  /** By spec region, created on first use: the KMS secret holding the JWT private key (functions get only its name). */
  jwtKeySecret: (region: string) => KmsSecretRef;
  /** By spec region, created on first use: the KMS secret holding the API keys the gateway accepts. */
  apiKeysSecret: (region: string, keys: pulumi.Input<pulumi.Input<string>[]>) => KmsSecretRef;
  /** By spec region, created on first use: the KMS secret holding the token the gateway's metrics take. */
  metricsTokenSecret: (region: string) => KmsSecretRef;
  /** By spec region, created on first use: the KMS secret holding the tracing collector's export headers. */
  tracingHeadersSecret: (region: string) => KmsSecretRef;
  /** By spec region and declared secret name, created on first use: the KMS secret holding its value. */
  functionSecret: (region: string, secret: string) => KmsSecretRef;
  /** By spec region, created on first use: the name of the bucket every other bucket of the region logs its access to. */
  logBucket: (region: string) => pulumi.Output<string>;
  /** By ENS region: the id of the instance its gateway runs on (reached on its public IP, ens-region.ts). */
  ensGateways: Map<string, pulumi.Output<string>>;
  /** Where clients reach the gateway (set by the gateway step): the DNS name, or the first gateway region's trigger URL. */
  gatewayUrl?: pulumi.Output<string>;
  /** Each gateway region's trigger URL, for the ACK models' autoscalers, once a step asked (see demandGateways). */
  gatewayAddresses?: LaterUrls;
}

/** An endpoint at `url` that takes the gateway's JWT for `audience`. */
export const withJwt = (url: pulumi.Output<string>, audience: string): pulumi.Output<Endpoint> =>
  url.apply((resolved) => ({ url: resolved, jwt: { issuer: JWT_ISSUER, audience } }));
