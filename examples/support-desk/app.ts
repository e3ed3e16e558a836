/**
 * support-desk: classifies incoming customer messages by intent and routes
 * them to the right queue. One central region, one 5G edge region (a Wavelength
 * Zone on AWS, which sells On-Demand capacity only), a GPU pool for the model,
 * rate-limited, cached routes, the objectives every target alerts on, and an
 * asynchronous route that re-classifies a backlog of tickets from a durable queue.
 */
import { App } from "../../sdk";

const app = new App("support-desk", { root: __dirname });

const central = app.region("central", {
  kind: "central",
  placement: {
    aws: { region: "eu-west-1" },
    alicloud: { region: "eu-central-1" },
    kubernetes: { labels: { "topology.kubernetes.io/region": "eu-west-1" } },
  },
});
const edge = app.region("edge-berlin", {
  kind: "edge",
  localities: ["de", "berlin"],
  latencyBudget: "20 ms",
  placement: {
    // Vodafone's Berlin Wavelength Zone: classify and intent run as containers on the zone's nodes (no Lambda there).
    aws: { region: "eu-central-1", zone: "eu-central-1-wl1-ber-wlz-1", zoneType: "wavelength" },
    // No ENS node in Germany is in the edge-site table (ENS runs this edge's work on instances where one is), so on
    // Alibaba Cloud this edge runs on Function Compute in Frankfurt.
    alicloud: { region: "eu-central-1" },
    kubernetes: {
      labels: { "topology.kubernetes.io/region": "eu-central-1", "cloudloom.dev/edge": "berlin" },
      tolerations: ["cloudloom.dev/edge"],
    },
  },
});

const t4 = app.gpuPool("inference-t4", {
  accelerator: "nvidia-t4",
  minSize: 0,
  maxSize: 4,
  capacity: "on-demand",
  regions: [central, edge],
});

const interactive = app.scalingPolicy("interactive", {
  minInstances: 1,
  maxInstances: 20,
  targetConcurrency: 8,
  schedules: [{ cron: "0 8 * * 1-5", timezone: "Europe/Berlin", minInstances: 4 }],
});
const bursty = app.scalingPolicy("bursty", {
  maxInstances: 8,
  targetUtilization: 70,
  scaleToZero: { idleWindow: "15 minutes" },
  prewarm: { leadTime: "2 minutes", lookBack: "7 days" },
});

const backlog = app.scalingPolicy("backlog", {
  maxInstances: 4,
  targetConcurrency: 4,
  scaleToZero: { idleWindow: "5 minutes" },
});

const intent = app.model("intent", {
  version: "1",
  artifact: { path: "model/intent.onnx", sha256: "6ec1d4279a14ab286bdbc97eba2d7217ad8f56e50a7986f807bd8cbff9e1c344" },
  signature: {
    inputs: { features: { type: "float32", shape: [-1, 512] } },
    outputs: { probabilities: { type: "float32", shape: [-1, 5] } },
  },
  pool: t4,
  batching: { maxBatchSize: 32, maxDelay: "2 ms", maxQueue: 512 },
  regions: [central, edge],
  scaling: bursty,
  objectives: [
    // Batches wait at most 2 ms to fill; requests waiting 20 ms mean the GPU cannot keep up.
    { queueAge: "20 ms", window: "5 minutes", severity: "page" },
    { queueDepth: 128, window: "10 minutes", severity: "ticket" },
    // It scales to zero, so some cold starts are the price; more than one call in ten is a pre-warm gone wrong.
    { coldStartShare: "10%", window: "1 hour", severity: "ticket" },
  ],
});

const classify = app.function("classify", {
  handler: "functions/classify.ts",
  memory: "512 MB",
  timeout: "10 seconds",
  concurrency: 50,
  environment: { LOG_LEVEL: "info", CRM_TOKEN: { secret: "crm-token" } },
  models: [intent],
  regions: [central, edge],
  scaling: interactive,
  // Kept warm from one instance up: cold starts should be rare.
  objectives: [{ coldStartShare: "2%", window: "1 hour", severity: "ticket" }],
});

app.route("POST /v1/classify", {
  target: classify,
  rateLimit: { requests: 600, per: "1 minute", burst: 100, key: "api-key" },
  cache: { ttl: "5 minutes" },
  objectives: [
    // A fast burn pages; a slow one opens a ticket.
    { errorRate: "2%", window: "5 minutes", severity: "page" },
    { errorRate: "0.5%", window: "1 hour", severity: "ticket" },
    { p99: "800 ms", window: "10 minutes", severity: "page" },
  ],
});
// Batch work: answered 202 with an invocation id, run from a queue with retries and a dead letter.
const reclassify = app.function("reclassify", {
  handler: "functions/reclassify.ts",
  memory: "1 GB",
  timeout: "2 minutes",
  concurrency: 4,
  models: [intent],
  regions: [central],
  scaling: backlog,
});
app.route("POST /v1/tickets/reclassify", {
  target: reclassify,
  rateLimit: { requests: 60, per: "1 minute", burst: 10, key: "api-key" },
  async: { retries: 3, backoff: { strategy: "exponential", delay: "2 seconds" }, retention: "1 day" },
  // A backlog job may fail on a bad ticket; a share that keeps failing means the job, not the ticket, is broken.
  objectives: [{ errorRate: "5%", window: "1 hour", severity: "ticket" }],
});
app.route("POST /v1/models/intent", {
  target: intent,
  rateLimit: { requests: 100, per: "1 second", burst: 50, key: "ip", onStoreFailure: "closed" },
  objectives: [
    { errorRate: "1%", window: "5 minutes", severity: "page" },
    { p99: "250 ms", window: "10 minutes", severity: "ticket" },
  ],
});

export default app;
