/** The Alibaba Cloud provider's steps, one per spec section, each in the file of its concept. */
import type { ProviderSteps } from "../provider";
import { placeAlerts } from "./alerts";
import type { AlicloudContext } from "./context";
import { placeEnsRegions } from "./ens-region";
import { placeFunctions } from "./function";
import { placeGateway } from "./gateway";
import { placeGpuPools } from "./gpu-pool";
import { placeModels } from "./model";
import { placeQueues } from "./queues";
import { placeRegions } from "./region";

/** The Alibaba Cloud mapping of each spec section. */
export const alicloudSteps: ProviderSteps<AlicloudContext> = {
  regions: placeRegions,
  gpuPools: placeGpuPools,
  scalingPolicies() {
    // Policies attach to each function as provision configs; their schedules
    // were converted to FC's cron syntax before any resource was created.
  },
  queues: placeQueues,
  models: placeModels,
  functions(context) {
    placeFunctions(context);
    // ENS regions run their functions and models as containers on their own instances, with their own gateway.
    placeEnsRegions(context);
  },
  gateway: placeGateway,
  alerts: placeAlerts,
};
