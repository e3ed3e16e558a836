/** The AWS provider's steps, one per spec section, each in the file of its concept. */
import type { ProviderSteps } from "../provider";
import type { AwsContext } from "./context";
import { placeFunctions } from "./function";
import { placeGateway } from "./gateway";
import { placeGpuPools } from "./gpu-pool";
import { placeModels } from "./model";
import { placeQueues } from "./queues";
import { placeRegions } from "./region";

/** The AWS mapping of each spec section. */
export const awsSteps: ProviderSteps<AwsContext> = {
  regions: placeRegions,
  gpuPools: placeGpuPools,
  scalingPolicies() {
    // Policies attach to each function and model (provisioned concurrency,
    // Application Auto Scaling, KEDA on EKS); schedules were checked before creation.
  },
  queues: placeQueues,
  models: placeModels,
  functions: placeFunctions,
  gateway: placeGateway,
};
