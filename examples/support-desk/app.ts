/**
 * support-desk: classifies incoming customer messages by intent and routes
 * them to the right queue. One central region, one 5G edge region, a GPU pool
 * for the model, rate-limited, cached routes, and an asynchronous route that
 * re-classifies a backlog of tickets from a durable queue.
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
    aws: { region: "eu-central-1", zone: "eu-central-1-ber-1a", zoneType: "local-zone" },
    // Function Compute does not run on ENS nodes, so on Alibaba Cloud this edge runs in Frankfurt.
    alicloud: { region: "eu-central-1" },
    kubernetes: {
      labels: { "topology.kubernetes.io/region": "eu-central-1", "cloudloom.dev/edge": "berlin" },
      tolerations: ["cloudloom.dev/edge"],
    },
  },
});

const t4 = app.gpuPool("inference-t4", { accelerator: "nvidia-t4", minSize: 0, maxSize: 4, capacity: "spot", regions: [central, edge] });

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
});

app.route("POST /v1/classify", {
  target: classify,
  rateLimit: { requests: 600, per: "1 minute", burst: 100, key: "api-key" },
  cache: { ttl: "5 minutes" },
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
});
app.route("POST /v1/models/intent", {
  target: intent,
  rateLimit: { requests: 100, per: "1 second", burst: 50, key: "ip", onStoreFailure: "closed" },
});

export default app;
