/** The AWS provider's steps, one per spec section, each in the file of its concept. */
import type { ProviderSteps } from "../provider";
import { placeAlerts } from "./alerts";
import type { AwsContext } from "./context";
import { placeFunctions } from "./function";
import { placeGateway } from "./gateway";
import { placeGpuPools } from "./gpu-pool";
import { placeModels } from "./model";
import { placeModelJobWorkers } from "./model-jobs";
import { placeQueues } from "./queues";
import { placeRegions } from "./region";
import { placeWavelengthRegions } from "./edge-zone";

/** The AWS mapping of each spec section. */
export const awsSteps: ProviderSteps<AwsContext> = {
  regions: placeRegions,
  gpuPools: placeGpuPools,
  scalingPolicies() {
    // Policies attach to each function and model (provisioned concurrency,
    // Application Auto Scaling, KEDA on EKS); schedules were checked before creation.
  },
  queues: placeQueues,
  models(context) {
    placeModels(context);
    // Wavelength regions run their functions and models as containers on the zone's own nodes.
    placeWavelengthRegions(context);
    // Queued model versions get a job worker that calls the endpoint just placed.
    placeModelJobWorkers(context);
  },
  functions: placeFunctions,
  gateway: placeGateway,
  alerts: placeAlerts,
};
