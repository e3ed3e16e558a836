/** What the Kubernetes steps share while building one app. */
import type * as pulumi from "@pulumi/pulumi";
import type { Endpoint, SpecV1 } from "../../sdk/spec";
import type { EndpointsBuilder } from "../shared/endpoints";
import type { ResolvedKubernetesArgs } from "./app";
import type { gpuScheduling } from "./gpu-pool";
import type { QueueRedis } from "./queues";
import type { regionScheduling } from "./region";
import type { StackTokenSetting } from "../shared/stack-token";

/** What the steps share while building one app. */
export interface KubernetesContext {
  name: string;
  spec: SpecV1;
  args: ResolvedKubernetesArgs;
  child: { parent: pulumi.Resource; provider?: pulumi.ProviderResource };
  endpoints: EndpointsBuilder<pulumi.Output<Endpoint>>;
  namespace?: pulumi.Output<string>;
  regions: Map<string, ReturnType<typeof regionScheduling>>;
  pools: Map<string, ReturnType<typeof gpuScheduling>>;
  /** The in-cluster Redis, once a step created it (see appRedis). */
  redis?: { host: pulumi.Output<string>; secretName: pulumi.Output<string> };
  /** How the asynchronous entries' workers and their scalers reach the queues' Redis, when the app has any. */
  queueRedis?: QueueRedis;
  /** Where clients call the gateway, once the gateway step placed it. */
  gatewayUrl?: pulumi.Output<string>;
  /** The Secret of each stack token, once a step created it (see stack-token.ts). */
  tokenSecrets?: Map<StackTokenSetting, pulumi.Output<string>>;
  /** The TriggerAuthentication presenting the metrics token to the gateways, once a step created it (see metrics-token.ts). */
  metricsAuthentication?: pulumi.Output<string>;
}
