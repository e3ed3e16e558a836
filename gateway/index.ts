/** The gateway's public entry, for the CLI and the local target that compose it. */
export { Gateway, NOT_DURABLE_WARNING, type GatewayOptions } from "./gateway";
export type { QueueFor } from "./route-table";
export { GatewayMetrics } from "./metrics";
export { parseEndpoints, parseSettings, type GatewaySettings } from "./config";
