/** The cloudloom SDK: declare an app once, get a validated Spec v1. */
export { App, type AppOptions } from "./app";
export * from "./declarations";
export * from "./spec";
export * from "./handler";
export { loadApp, AppLoadError } from "./load-app";
