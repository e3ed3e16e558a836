/** The gateway's public entry, for the CLI and the local target that compose it. */
export { Gateway, type GatewayOptions } from "./gateway";
export { GatewayMetrics } from "./metrics";
export { parseEndpoints, parseSettings, type GatewaySettings } from "./config";
export { DASHBOARD_PATH } from "./dashboard/page";
