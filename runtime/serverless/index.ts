/**
 * The cloudloom serverless runtime, as one module: the adapter of every
 * serverless platform. Providers ship it once per region as a layer (AWS
 * Lambda `LayerVersion`, FC `V3LayerVersion`) at
 * `/opt/nodejs/node_modules/cloudloom-runtime`, so each function's own
 * package holds only its handler (and a model's job worker's, one call of
 * `modelJobsHandler`).
 */
export { lambdaHandler } from "./lambda";
export { fcHandler } from "./fc";
export { modelJobsHandler } from "./model-jobs";
