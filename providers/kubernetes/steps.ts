/** The Kubernetes provider's steps, one per spec section, each in the file of its concept. */
import type { ProviderSteps } from "../provider";
import { placeAlerts } from "./alerts";
import type { KubernetesContext } from "./context";
import { placeFunctions } from "./function";
import { placeGateway } from "./gateway";
import { placeGpuPools } from "./gpu-pool";
import { placeModels } from "./model";
import { placeQueues } from "./queues";
import { placeNetworkPolicies } from "./network-policy";
import { placeRegions } from "./region";

/** The Kubernetes mapping of each spec section. */
export const kubernetesSteps: ProviderSteps<KubernetesContext> = {
  regions: placeRegions,
  gpuPools: placeGpuPools,
  scalingPolicies() {
    // Policies attach to each workload (steps models and functions); their
    // schedules were already checked before any resource was created.
  },
  queues: placeQueues,
  models: placeModels,
  functions: placeFunctions,
  gateway(context) {
    placeGateway(context);
    // Last: the policies name every kind of pod the steps placed.
    placeNetworkPolicies(context);
  },
  alerts: placeAlerts,
};
