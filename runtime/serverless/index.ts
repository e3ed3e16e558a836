/**
 * The cloudloom serverless runtime, as one module: the adapter of every
 * serverless platform. Providers ship it once per region as a layer (AWS
 * Lambda `LayerVersion`, FC `V3LayerVersion`) at
 * `/opt/nodejs/node_modules/cloudloom-runtime`, so each function's own
 * package holds only its handler.
 */
export { lambdaHandler } from "./lambda";
export { fcHandler } from "./fc";
