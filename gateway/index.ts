/** The gateway's public entry, for the CLI and the local target that compose it. */
export { Gateway, NOT_DURABLE_WARNING, type GatewayOptions } from "./gateway";
export type { QueueFor } from "./route-table";
export { GatewayMetrics } from "./metrics";
export { GatewayConfigError, parseEndpoints, parseSettings, type GatewaySettings } from "./config";
export type { RolloutAction, RolloutStatus } from "./rollout/controller";
/** What `cloudloom rollout` needs of the contract, without loading the runtime (and onnxruntime) behind runtime/index.ts. */
export { ROLLOUTS_PATH, RUNTIME_ENV } from "../runtime/contract";
export { DASHBOARD_PATH } from "./dashboard/page";
