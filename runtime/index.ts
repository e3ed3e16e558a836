/**
 * The runtime's public entry, for the CLI and the local target that host it:
 * the in-process runtime, the pod server, and what their command lines need.
 * Providers and the policy pack import `./contract` only.
 */
export { LocalRuntime, type RuntimeScope } from "./runtime";
export { callEntry } from "./entry-call";
export { authFor } from "./auth/backend-auth";
export { PodServer } from "./pod/pod-server";
export { DemandReporter, ModelCallDemand, type DemandReportTarget } from "./model-call-demand";
export { EntryQueues, type EntryQueuesOptions } from "./queue/entry-queues";
export { BullmqQueue } from "./queue/bullmq-queue";
export { SqsQueue } from "./queue/sqs-queue";
export { FcAsyncQueue, sdkTaskReader, StoredSubmissions } from "./queue/fc-async-queue";
export { credentialSourceFromEnv } from "./auth/credentials";
export { jwtRequirementFromEnv, type JwtRequirement } from "./pod/require-jwt";
export { metricsRegistry, RuntimeMetrics } from "./metrics";
export { startTracing, traceExportFrom, TracingConfigError, tracingFromEnv, type Tracing } from "./telemetry";
export { sampleSize } from "./signature";
export { keepHeapHeadroom, SERVER_HEAP_GROWING_PERCENT } from "./heap-headroom";
export { loadAlicloudSecrets } from "./serverless/alicloud-secrets";
export * from "./contract";
