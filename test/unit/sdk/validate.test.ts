import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  App,
  PROBLEM_CODES,
  SpecError,
  validate,
  type Accelerator,
  type FunctionArgs,
  type ModelArgs,
  type ProblemCode,
  type SpecV1,
  type ValidateOptions,
} from "../../../sdk";
import { fixtureSpec } from "../../fixtures/spec";

interface Case {
  code: ProblemCode;
  path: string;
  breaks: string;
  mutate?: (spec: SpecV1 & Record<string, any>) => void;
  options?: ValidateOptions;
  /** Problems found while declaring (not in the spec document). */
  declare?: () => App;
  /** Check the declared app against its own root and files (handler modules, ONNX graphs). */
  files?: boolean;
}

const REGION_PLACEMENT = { placement: { aws: { region: "us-east-1" } } };
const MISTAKES = join(__dirname, "../../fixtures/mistakes");
const INTENT_ONNX = join(__dirname, "../../../examples/support-desk/model/intent.onnx");
const sha256Of = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** An app rooted at test/fixtures/mistakes, with file checks on, declaring one function with `handler`. */
function handlerApp(handler: string): App {
  const app = new App("handlers", { root: MISTAKES, inspectFiles: true });
  app.function("f", { handler, regions: [app.region("central", { kind: "central", ...REGION_PLACEMENT })] });
  return app;
}

/** An app rooted at test/fixtures/mistakes, with file checks on, declaring one model on `file` with `features` of `shape`. */
function modelApp(file: string, shape: number[]): App {
  const app = new App("models", { root: MISTAKES, inspectFiles: true });
  app.model("intent", {
    version: "1",
    artifact: { path: file, sha256: sha256Of(file) },
    signature: { inputs: { features: { type: "float32", shape } }, outputs: { probabilities: { type: "float32", shape: [-1, 5] } } },
    regions: [app.region("central", { kind: "central", ...REGION_PLACEMENT })],
  });
  return app;
}

/** Gives the fixture's split route a valid rollout of version 2, with `changes` and `weights` over it. */
function rollOut(spec: SpecV1, changes: Record<string, unknown>, weights = { "1": 100, "2": 0 }): void {
  const route = spec.routes["POST /models/ranker"];
  (route.target as { weights: Record<string, number> }).weights = weights;
  route.rollout = {
    version: "2",
    steps: [5, 50, 100],
    interval: "5 minutes",
    gate: { maxErrorRate: "1%", minRequests: 100 },
    ...changes,
  } as never;
}

/** The fixture's `rank` function queued by a new route, with `change` over default asynchronous settings. */
function queueRank(s: SpecV1, change: Partial<NonNullable<SpecV1["routes"][string]["async"]>> = {}, key = "POST /rank/batch"): void {
  const settings = {
    retries: 3,
    backoff: { strategy: "exponential" as const, delay: "1 second" as const },
    timeout: "30 seconds" as const,
  };
  s.routes[key] = {
    target: { kind: "function", name: "rank" },
    auth: "api-key",
    async: { ...settings, deadLetter: true, retention: "1 day", ...change },
  };
}

const CASES: Case[] = [
  {
    code: "CL_FIELD_REQUIRED",
    path: "functions.rank.memory",
    breaks: "a missing field",
    mutate: (s) => delete (s.functions.rank as any).memory,
  },
  {
    code: "CL_FIELD_TYPE",
    path: "functions.rank.concurrency",
    breaks: "a string where a number belongs",
    mutate: (s) => ((s.functions.rank as any).concurrency = "ten"),
  },
  {
    code: "CL_FIELD_UNKNOWN",
    path: "functions.rank.memroy",
    breaks: "a misspelled field",
    mutate: (s) => ((s.functions.rank as any).memroy = "1 GB"),
  },
  {
    code: "CL_FIELD_VALUE",
    path: "routes.POST /rank.auth",
    breaks: "an auth mode that does not exist",
    mutate: (s) => ((s.routes["POST /rank"] as any).auth = "basic"),
  },
  { code: "CL_API_VERSION", path: "apiVersion", breaks: "another api version", mutate: (s) => ((s as any).apiVersion = "cloudloom/v2") },
  { code: "CL_NAME_INVALID", path: "app", breaks: "a name with capitals and underscores", mutate: (s) => (s.app = "My_Shop") },
  {
    code: "CL_ROUTE_PATH",
    path: "routes.FETCH /rank",
    breaks: "a route with an unknown method",
    mutate: (s) => ((s.routes["FETCH /rank"] = s.routes["POST /rank"]), delete s.routes["POST /rank"]),
  },
  {
    code: "CL_UNIT_MALFORMED",
    path: "functions.rank.memory",
    breaks: "a size without a space",
    mutate: (s) => ((s.functions.rank as any).memory = "512MB"),
  },
  {
    code: "CL_DANGLING_REFERENCE",
    path: "functions.rank.scaling",
    breaks: "a reference to an undeclared policy",
    mutate: (s) => (s.functions.rank.scaling = "missing"),
  },
  {
    code: "CL_DANGLING_REFERENCE",
    path: "routes.POST /models/ranker.target.weights.3",
    breaks: "a weight on an undeclared version",
    mutate: (s) => ((s.routes["POST /models/ranker"].target as any).weights = { "1": 90, "3": 10 }),
  },
  {
    code: "CL_MIN_GT_MAX",
    path: "scalingPolicies.steady.minInstances",
    breaks: "min above max",
    mutate: (s) => (s.scalingPolicies.steady.minInstances = 9),
  },
  {
    code: "CL_MIN_GT_MAX",
    path: "gpuPools.gpu.minSize",
    breaks: "a pool's min above its max",
    mutate: (s) => (s.gpuPools.gpu.minSize = 3),
  },
  {
    code: "CL_SCALE_TO_ZERO_CONFLICT",
    path: "scalingPolicies.lazy.minInstances",
    breaks: "scale-to-zero with a minimum",
    mutate: (s) => (s.scalingPolicies.lazy.minInstances = 1),
  },
  {
    code: "CL_HOLD_INVALID",
    path: "scalingPolicies.lazy.hold.maxPending",
    breaks: "a hold that keeps no request",
    mutate: (s) => (s.scalingPolicies.lazy.hold = { maxPending: 0, maxWait: "30 seconds" }),
  },
  {
    code: "CL_HOLD_INVALID",
    path: "scalingPolicies.lazy.hold.maxWait",
    breaks: "a hold longer than five minutes",
    mutate: (s) => (s.scalingPolicies.lazy.hold = { maxPending: 100, maxWait: "6 minutes" }),
  },
  {
    code: "CL_SCALING_TARGET",
    path: "scalingPolicies.steady",
    breaks: "a policy with no target",
    mutate: (s) => delete s.scalingPolicies.steady.targetConcurrency,
  },
  {
    code: "CL_BATCHING_LIMIT",
    path: "models.ranker@1.batching.maxBatchSize",
    breaks: "a zero max batch",
    mutate: (s) => (s.models["ranker@1"].batching.maxBatchSize = 0),
  },
  {
    code: "CL_BATCHING_LIMIT",
    path: "models.ranker@1.batching.maxDelay",
    breaks: "a zero max delay",
    mutate: (s) => (s.models["ranker@1"].batching.maxDelay = "0 ms"),
  },
  {
    code: "CL_UNKNOWN_ACCELERATOR",
    path: "gpuPools.gpu.accelerator",
    breaks: "an accelerator outside the catalog",
    mutate: (s) => (s.gpuPools.gpu.accelerator = "nvidia-gtx-1080"),
  },
  {
    code: "CL_ACCELERATOR_UNMAPPED",
    path: "gpuPools.gpu.accelerator",
    breaks: "an L4 on Alibaba Cloud",
    mutate: (s) => (s.gpuPools.gpu.accelerator = "nvidia-l4"),
    options: { target: "alicloud" },
  },
  {
    code: "CL_POOL_REGION",
    path: "models.ranker@1.regions.1",
    breaks: "a GPU model in a region its pool does not cover",
    mutate: (s) => (s.models["ranker@1"].regions = ["central", "edge"]),
  },
  {
    code: "CL_GPU_MEMORY",
    path: "gpuPools.gpu.gpuMemory",
    breaks: "more GPU memory than a T4 has",
    mutate: (s) => (s.gpuPools.gpu.gpuMemory = "64 GB"),
  },
  {
    code: "CL_ARTIFACT_MISSING",
    path: "models.ranker@2.artifact.path",
    breaks: "a model file that does not exist",
    mutate: (s) => (s.models["ranker@2"].artifact.path = "missing.onnx"),
  },
  {
    code: "CL_ARTIFACT_SHA256_MISMATCH",
    path: "models.ranker@2.artifact.sha256",
    breaks: "a wrong sha256",
    mutate: (s) => (s.models["ranker@2"].artifact.sha256 = "0".repeat(64)),
  },
  {
    code: "CL_PLACEMENT_MISSING",
    path: "regions.edge.placement.alicloud",
    breaks: "a region with no Alibaba placement",
    mutate: (s) => delete s.regions.edge.placement.alicloud,
    options: { target: "alicloud" },
  },
  {
    code: "CL_EDGE_LOCALITY",
    path: "regions.edge.localities",
    breaks: "an edge with no localities",
    mutate: (s) => (s.regions.edge.localities = []),
  },
  {
    code: "CL_RATE_LIMIT_INVALID",
    path: "routes.POST /rank.rateLimit.requests",
    breaks: "a zero rate",
    mutate: (s) => (s.routes["POST /rank"].rateLimit!.requests = 0),
  },
  {
    code: "CL_RATE_LIMIT_INVALID",
    path: "routes.POST /rank.rateLimit.burst",
    breaks: "a negative burst",
    mutate: (s) => (s.routes["POST /rank"].rateLimit!.burst = -1),
  },
  {
    code: "CL_CRON_INVALID",
    path: "scalingPolicies.steady.schedules.0.cron",
    breaks: "minute 61",
    mutate: (s) => (s.scalingPolicies.steady.schedules[0].cron = "61 9 * * *"),
  },
  {
    code: "CL_CRON_INVALID",
    path: "scalingPolicies.steady.schedules.0.cron",
    breaks: "a six-field cron",
    mutate: (s) => (s.scalingPolicies.steady.schedules[0].cron = "0 0 9 * * *"),
  },
  {
    code: "CL_TIMEZONE_INVALID",
    path: "scalingPolicies.steady.schedules.0.timezone",
    breaks: "a made-up timezone",
    mutate: (s) => (s.scalingPolicies.steady.schedules[0].timezone = "Mars/Olympus_Mons"),
  },
  {
    code: "CL_WEIGHTS_SUM",
    path: "routes.POST /models/ranker.target.weights",
    breaks: "weights adding up to 110",
    mutate: (s) => ((s.routes["POST /models/ranker"].target as any).weights = { "1": 90, "2": 20 }),
  },
  {
    code: "CL_ROLLOUT_TARGET",
    path: "routes.POST /models/ranker.rollout.version",
    breaks: "a rollout of a version the route does not split",
    mutate: (s) => rollOut(s, { version: "3" }),
  },
  {
    code: "CL_ROLLOUT_WEIGHTS",
    path: "routes.POST /models/ranker.target.weights",
    breaks: "a rollout whose version starts at 10 %",
    mutate: (s) => rollOut(s, {}, { "1": 90, "2": 10 }),
  },
  {
    code: "CL_ROLLOUT_STEPS",
    path: "routes.POST /models/ranker.rollout.steps",
    breaks: "rollout steps that fall",
    mutate: (s) => rollOut(s, { steps: [50, 25, 100] }),
  },
  {
    code: "CL_ROLLOUT_GATE",
    path: "routes.POST /models/ranker.rollout.gate",
    breaks: "a rollout gate without a threshold",
    mutate: (s) => rollOut(s, { gate: { minRequests: 10 } }),
  },
  {
    code: "CL_MEMORY_OUT_OF_RANGE",
    path: "functions.rank.memory",
    breaks: "12 GB on Lambda",
    mutate: (s) => (s.functions.rank.memory = "12 GB"),
    options: { target: "aws" },
  },
  {
    code: "CL_TIMEOUT_OUT_OF_RANGE",
    path: "functions.rank.timeout",
    breaks: "16 minutes on Lambda",
    mutate: (s) => (s.functions.rank.timeout = "16 minutes"),
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_SITE_UNKNOWN",
    path: "regions.edge.placement.aws.zone",
    breaks: "an AWS zone the edge-site table does not know, without offers",
    mutate: (s) => (s.regions.edge.placement.aws = { region: "us-east-1", zone: "us-east-1-bos-1a", zoneType: "local-zone" }),
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_SITE_UNKNOWN",
    path: "regions.edge.placement.alicloud.ensRegion",
    breaks: "an ENS region the edge-site table does not know, without offers",
    mutate: (s) => {
      s.regions.edge.placement.alicloud = { region: "cn-hangzhou", ensRegion: "cn-hangzhou-telecom" };
      s.functions.rank.regions = ["central"];
      s.models["ranker@2"].regions = ["central"];
    },
    options: { target: "alicloud" },
  },
  {
    code: "CL_EDGE_SITE_PLACEMENT",
    path: "regions.edge.placement.aws.zoneType",
    breaks: "a Wavelength Zone declared as a Local Zone",
    mutate: (s) => (s.regions.edge.placement.aws = { region: "us-east-1", zone: "us-east-1-wl1-bos-wlz-1", zoneType: "local-zone" }),
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_SITE_PLACEMENT",
    path: "regions.edge.placement.aws.zoneType",
    breaks: "a zone the table does not know, with offers but no zone type",
    mutate: (s) => {
      delete s.regions.edge.placement.aws!.zoneType;
    },
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_SITE_PLACEMENT",
    path: "regions.edge.placement.aws.region",
    breaks: "a Wavelength Zone placed under another parent region",
    mutate: (s) => {
      s.regions.edge.placement.aws = { region: "us-east-1", zone: "eu-central-1-wl1-ber-wlz-1" };
      s.functions.rank.regions = ["central"];
      s.models["ranker@2"].regions = ["central"];
    },
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_ACCELERATOR",
    path: "gpuPools.gpu.accelerator",
    breaks: "an A10 pool in a Wavelength Zone, which sells only T4 GPUs",
    mutate: (s) => {
      s.regions.edge.placement.aws = { region: "us-east-1", zone: "us-east-1-wl1-bos-wlz-1", zoneType: "wavelength" };
      s.functions.rank.regions = ["central"];
      s.models["ranker@2"].regions = ["central"];
      s.gpuPools.gpu.accelerator = "nvidia-a10";
      s.gpuPools.gpu.gpuMemory = "24 GB";
      s.gpuPools.gpu.regions = ["central", "edge"];
    },
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_ACCELERATOR",
    path: "gpuPools.gpu.gpusPerInstance",
    breaks: "a 4-GPU T4 pool in a Wavelength Zone, which sells one T4 per instance",
    mutate: (s) => {
      s.regions.edge.placement.aws = { region: "us-east-1", zone: "us-east-1-wl1-bos-wlz-1", zoneType: "wavelength" };
      s.functions.rank.regions = ["central"];
      s.models["ranker@2"].regions = ["central"];
      s.gpuPools.gpu.gpusPerInstance = 4;
      s.gpuPools.gpu.regions = ["central", "edge"];
    },
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_ACCELERATOR",
    path: "gpuPools.gpu.accelerator",
    breaks: "a T4 pool on an ENS node the table lists without GPUs",
    mutate: (s) => {
      s.regions.edge.placement.alicloud = { region: "cn-hangzhou", ensRegion: "cn-dalian-unicom" };
      s.functions.rank.regions = ["central"];
      s.models["ranker@2"].regions = ["central"];
      s.gpuPools.gpu.regions = ["central", "edge"];
    },
    options: { target: "alicloud" },
  },
  {
    code: "CL_EDGE_SPOT",
    path: "gpuPools.gpu.capacity",
    breaks: "a Spot pool in a Wavelength Zone, which is On-Demand only",
    mutate: (s) => {
      s.regions.edge.placement.aws = { region: "us-east-1", zone: "us-east-1-wl1-bos-wlz-1", zoneType: "wavelength" };
      s.functions.rank.regions = ["central"];
      s.models["ranker@2"].regions = ["central"];
      s.gpuPools.gpu.capacity = "spot";
      s.gpuPools.gpu.regions = ["central", "edge"];
    },
    options: { target: "aws" },
  },
  {
    code: "CL_SERVERLESS_LIMIT",
    path: "models.ranker@2.memory",
    breaks: "a CPU model needing more memory than SageMaker Serverless has",
    mutate: (s) => (s.models["ranker@2"].memory = "8 GB"),
    options: { target: "aws" },
  },
  {
    code: "CL_EDGE_ACCELERATOR",
    path: "gpuPools.gpu.accelerator",
    breaks: "a T4 pool on an ENS node that sells only general-purpose instances",
    mutate: (s) => (s.gpuPools.gpu.regions = ["central", "edge"]),
    options: { target: "alicloud" },
  },
  {
    code: "CL_EDGE_SPOT",
    path: "gpuPools.gpu.capacity",
    breaks: "a Spot pool on an ENS node whose declared offers sell no preemptible capacity",
    mutate: (s) => {
      s.regions.edge.placement.alicloud!.offers = {
        instanceTypes: ["ens.sn1.medium", "ens.gn6i.c8g1.2xlarge"],
        spot: false,
        serverless: false,
      };
      s.gpuPools.gpu.capacity = "spot";
      s.gpuPools.gpu.regions = ["central", "edge"];
    },
    options: { target: "alicloud" },
  },
  {
    code: "CL_FC_LIMIT",
    path: "functions.rank.memory",
    breaks: "FC memory off its 64 MB step",
    mutate: (s) => (s.functions.rank.memory = "1000 MB"),
    options: { target: "alicloud" },
  },
  {
    code: "CL_FC_LIMIT",
    path: "models.ranker@2.memory",
    breaks: "an FC model function's memory off its 64 MB step",
    mutate: (s) => (s.models["ranker@2"].memory = "3000 MB"),
    options: { target: "alicloud" },
  },
  {
    code: "CL_FC_LIMIT",
    path: "gpuPools.gpu.gpuMemory",
    breaks: "FC GPU memory off its 1,024 MB step",
    mutate: (s) => (s.gpuPools.gpu.gpuMemory = "1500 MB"),
    options: { target: "alicloud" },
  },
  {
    code: "CL_FC_LIMIT",
    path: "gpuPools.gpu.gpusPerInstance",
    breaks: "more than one GPU per FC instance",
    mutate: (s) => (s.gpuPools.gpu.gpusPerInstance = 4),
    options: { target: "alicloud" },
  },
  {
    code: "CL_POOL_PLATFORM",
    path: "gpuPools.gpu.platform",
    breaks: "a serverless GPU pool on AWS, which has no serverless GPUs",
    mutate: (s) => (s.gpuPools.gpu.platform = "serverless"),
    options: { target: "aws" },
  },
  {
    code: "CL_TIMEOUT_OUT_OF_RANGE",
    path: "functions.rank.timeout",
    breaks: "a timeout beyond FC's 24 hours",
    mutate: (s) => (s.functions.rank.timeout = "25 hours"),
    options: { target: "alicloud" },
  },
  { code: "CL_TARGET_UNKNOWN", path: "target", breaks: "a target cloudloom does not know", options: { target: "gcp" } },
  {
    code: "CL_DUPLICATE_NAME",
    path: "regions.central",
    breaks: "two regions with one name",
    declare: () => {
      const app = new App("dup");
      app.region("central", { kind: "central", ...REGION_PLACEMENT });
      app.region("central", { kind: "central", ...REGION_PLACEMENT });
      return app;
    },
  },
  {
    code: "CL_FOREIGN_REFERENCE",
    path: "functions.f.regions.0",
    breaks: "a region of another App",
    declare: () => {
      const other = new App("other").region("central", { kind: "central", ...REGION_PLACEMENT });
      const app = new App("mine");
      app.region("central", { kind: "central", ...REGION_PLACEMENT });
      app.function("f", { handler: "f.ts", regions: [other] });
      return app;
    },
  },
  {
    code: "CL_PREWARM_HISTORY",
    path: "scalingPolicies.p.prewarm.history",
    breaks: "a pre-warm history file that does not exist",
    declare: () => {
      const app = new App("history", { root: "/nonexistent" });
      app.scalingPolicy("p", {
        maxInstances: 2,
        targetConcurrency: 1,
        scaleToZero: { idleWindow: "5 minutes" },
        prewarm: { leadTime: "5 minutes", history: "calls.csv" },
      });
      return app;
    },
  },
  {
    code: "CL_WEIGHTS_MIXED_MODELS",
    path: "routes.POST /x.target",
    breaks: "a split between two different models",
    declare: () => {
      const app = new App("mixed");
      const r = app.region("central", { kind: "central", ...REGION_PLACEMENT });
      const base = { artifact: { path: "a.onnx", sha256: "a".repeat(64) }, signature: { inputs: {}, outputs: {} }, regions: [r] };
      const a = app.model("a", { version: "1", ...base });
      const b = app.model("b", { version: "1", ...base });
      app.route("POST /x", {
        target: {
          strategy: "canary",
          versions: [
            { model: a, weight: 100 },
            { model: b, weight: 0 },
          ],
        },
      });
      return app;
    },
  },
  {
    code: "CL_FIELD_UNKNOWN",
    path: "functions.f.memroy",
    breaks: "a misspelled field in app.function()",
    declare: () => {
      const app = new App("typo");
      const r = app.region("central", { kind: "central", ...REGION_PLACEMENT });
      app.function("f", { handler: "f.ts", memroy: "1 GB", regions: [r] } as FunctionArgs);
      return app;
    },
  },
  {
    code: "CL_FIELD_UNKNOWN",
    path: "models.m@1.batching.maxBatchSzie",
    breaks: "a misspelled field in a model's batching",
    declare: () => {
      const app = new App("typo");
      const r = app.region("central", { kind: "central", ...REGION_PLACEMENT });
      const batching = { maxBatchSzie: 32 } as ModelArgs["batching"];
      app.model("m", {
        version: "1",
        artifact: { path: "m.onnx", sha256: "a".repeat(64) },
        signature: { inputs: {}, outputs: {} },
        batching,
        regions: [r],
      });
      return app;
    },
  },
  {
    code: "CL_UNKNOWN_ACCELERATOR",
    path: "gpuPools.gpu.accelerator",
    breaks: "a declared pool with an accelerator outside the catalog (and no gpuMemory problem)",
    declare: () => {
      const app = new App("gpus");
      const r = app.region("central", { kind: "central", ...REGION_PLACEMENT });
      app.gpuPool("gpu", { accelerator: "nvidia-t5" as Accelerator, maxSize: 1, regions: [r] });
      return app;
    },
  },
  {
    code: "CL_HANDLER_MISSING",
    path: "functions.f.handler",
    breaks: "a handler module that does not exist",
    files: true,
    declare: () => handlerApp("handlers/clasify.ts"),
  },
  {
    code: "CL_HANDLER_LOAD",
    path: "functions.f.handler",
    breaks: "a handler module that throws while loading",
    files: true,
    declare: () => handlerApp("handlers/throws.ts"),
  },
  {
    code: "CL_HANDLER_EXPORT",
    path: "functions.f.handler",
    breaks: "a handler module that exports no handler",
    files: true,
    declare: () => handlerApp("handlers/no-export.ts"),
  },
  {
    code: "CL_SIGNATURE_MISMATCH",
    path: "models.intent@1.signature.inputs.features",
    breaks: "[-1, 256] declared for a 512-wide ONNX input",
    files: true,
    declare: () => modelApp(INTENT_ONNX, [-1, 256]),
  },
  {
    code: "CL_ARTIFACT_INVALID",
    path: "models.intent@1.artifact.path",
    breaks: "an artifact that is not an ONNX model",
    files: true,
    declare: () => modelApp(join(MISTAKES, "not-onnx.onnx"), [-1, 512]),
  },
  {
    code: "CL_OBJECTIVE_MEASURE",
    path: "routes.POST /rank.objectives.0",
    breaks: "an objective stating two measures",
    mutate: (s) => (s.routes["POST /rank"].objectives = [{ errorRate: "1%", p99: "1 second", window: "5 minutes", severity: "page" }]),
  },
  {
    code: "CL_OBJECTIVE_SCOPE",
    path: "routes.POST /rank.objectives.0.queueDepth",
    breaks: "a queue objective on a route",
    mutate: (s) => (s.routes["POST /rank"].objectives = [{ queueDepth: 10, window: "5 minutes", severity: "page" }]),
  },
  {
    code: "CL_OBJECTIVE_THRESHOLD",
    path: "models.ranker@1.objectives.0.queueDepth",
    breaks: "a queue depth the queue can never exceed (maxQueue 256)",
    mutate: (s) => (s.models["ranker@1"].objectives = [{ queueDepth: 256, window: "5 minutes", severity: "ticket" }]),
  },
  {
    code: "CL_OBJECTIVE_WINDOW",
    path: "functions.rank.objectives.0.window",
    breaks: "a window that is not whole minutes",
    mutate: (s) => (s.functions.rank.objectives = [{ coldStartShare: "5%", window: "90 seconds", severity: "ticket" }]),
  },
  {
    code: "CL_OBJECTIVE_DUPLICATE",
    path: "routes.POST /rank.objectives.1",
    breaks: "the same measure twice at the same severity",
    mutate: (s) =>
      (s.routes["POST /rank"].objectives = [
        { errorRate: "5%", window: "5 minutes", severity: "page" },
        { errorRate: "1%", window: "1 hour", severity: "page" },
      ]),
  },
  {
    code: "CL_UNIT_MALFORMED",
    path: "routes.POST /rank.objectives.0.errorRate",
    breaks: "a percent written as words",
    mutate: (s) => (s.routes["POST /rank"].objectives = [{ errorRate: "1 percent" as never, window: "5 minutes", severity: "page" }]),
  },
  {
    code: "CL_ASYNC_RETRIES",
    path: "routes.POST /rank/batch.async.retries",
    breaks: "nine retries on Function Compute",
    options: { target: "alicloud" },
    mutate: (s) => queueRank(s, { retries: 9 }),
  },
  {
    code: "CL_ASYNC_BACKOFF",
    path: "routes.POST /rank/batch.async.backoff.delay",
    breaks: "no wait between retries",
    mutate: (s) => queueRank(s, { backoff: { strategy: "fixed", delay: "0 ms" } }),
  },
  {
    code: "CL_ASYNC_TIMEOUT",
    path: "routes.POST /rank/batch.async.timeout",
    breaks: "an attempt longer than the function's timeout",
    mutate: (s) => queueRank(s, { timeout: "1 minute" }),
  },
  {
    code: "CL_ASYNC_RETENTION",
    path: "routes.POST /rank/batch.async.retention",
    breaks: "15 days of retention on AWS",
    options: { target: "aws" },
    mutate: (s) => queueRank(s, { retention: "15 days" }),
  },
  {
    code: "CL_ASYNC_METHOD",
    path: "routes.PATCH /rank/batch",
    breaks: "an asynchronous PATCH route",
    mutate: (s) => queueRank(s, {}, "PATCH /rank/batch"),
  },
  {
    code: "CL_ASYNC_CACHE",
    path: "routes.POST /rank.cache",
    breaks: "an asynchronous cached route",
    mutate: (s) => (s.routes["POST /rank"].async = queued()),
  },
  {
    code: "CL_ASYNC_CONFLICT",
    path: "routes.POST /rank/batch.async",
    breaks: "a function queued with two retry counts",
    mutate: (s) => (queueRank(s, { retries: 1 }), queueRank(s, { retries: 2 }, "POST /rank/again")),
  },
  {
    code: "CL_ASYNC_MODEL_HOST",
    path: "routes.POST /models/ranker.async",
    breaks: "an asynchronous model route on Alibaba Cloud whose version 1 runs on ACK",
    options: { target: "alicloud" },
    mutate: (s) => {
      s.gpuPools.gpu.platform = "kubernetes";
      s.routes["POST /models/ranker"].async = { ...queued(), timeout: "1 minute" };
    },
  },
  {
    code: "CL_ASYNC_FUNCTION_HOST",
    path: "routes.POST /rank/batch",
    breaks: "an asynchronous function on AWS whose only region is a Wavelength Zone, with no Lambda to work its queue",
    options: { target: "aws" },
    mutate: (s) => {
      s.regions.edge.placement.aws = { region: "us-east-1", zone: "us-east-1-wl1-bos-wlz-1", zoneType: "wavelength" };
      s.functions.rank.regions = ["edge"];
      queueRank(s);
    },
  },
];

/** Default asynchronous settings. */
function queued(): NonNullable<SpecV1["routes"][string]["async"]> {
  const s = { routes: {} } as SpecV1;
  queueRank(s);
  return s.routes["POST /rank/batch"].async!;
}

function problemsOf(c: Case): Array<[string, string]> {
  if (c.declare)
    return c
      .declare()
      .problems(c.files ? {} : { root: undefined })
      .filter((p) => p.code !== "CL_ARTIFACT_MISSING")
      .map((p) => [p.code, p.path]);
  const { spec, root } = fixtureSpec();
  c.mutate?.(spec);
  return validate(JSON.parse(JSON.stringify(spec)), { root, ...c.options }).problems.map((p) => [p.code, p.path]);
}

describe("validate()", () => {
  it("accepts the fixture app on every target", () => {
    const { spec, root } = fixtureSpec();
    for (const target of ["aws", "alicloud", "kubernetes"]) assert.deepEqual(validate(spec, { target, root }).problems, [], target);
  });

  for (const c of CASES) {
    it(`reports ${c.code} at ${c.path} for ${c.breaks}`, () => {
      assert.deepEqual(problemsOf(c), [[c.code, c.path]]);
    });
  }

  it("accepts functions, CPU models and a GPU pool on an ENS node that sells the pool's GPU", () => {
    const { spec, root } = fixtureSpec();
    spec.regions.edge.placement.alicloud!.offers = {
      instanceTypes: ["ens.sn1.medium", "ens.gn6i.c8g1.2xlarge"],
      spot: true,
      serverless: false,
    };
    spec.gpuPools.gpu.regions = ["central", "edge"];
    spec.gpuPools.gpu.capacity = "spot";
    assert.deepEqual(validate(spec, { target: "alicloud", root }).problems, []);
  });

  it("has a table case for every problem code", () => {
    const covered = new Set(CASES.map((c) => c.code));
    assert.deepEqual(
      Object.keys(PROBLEM_CODES).filter((code) => !covered.has(code as ProblemCode)),
      [],
    );
  });

  it("names the field a misspelled one in a spec document meant", () => {
    const { spec, root } = fixtureSpec();
    (spec.functions.rank as any).memroy = "1 GB";
    (spec.models["ranker@1"].batching as any).maxBatchSzie = 4;
    (spec.routes["POST /models/ranker"].target as any).stickey = true;
    (spec.regions.edge.placement.aws as any).zoen = "x";
    const problems = validate(spec, { root }).problems;
    assert.deepEqual(
      problems.map((p) => [p.path, p.message.replace(/.*did you mean /, "")]),
      [
        ["regions.edge.placement.aws.zoen", '"zone"?'],
        ["models.ranker@1.batching.maxBatchSzie", '"maxBatchSize"?'],
        ["functions.rank.memroy", '"memory"?'],
        ["routes.POST /models/ranker.target.stickey", '"sticky"?'],
      ],
    );
  });

  it("reports every problem at once, each with a message and a fix", () => {
    const { spec, root } = fixtureSpec();
    spec.scalingPolicies.steady.minInstances = 9;
    spec.routes["POST /rank"].rateLimit!.requests = 0;
    spec.regions.edge.localities = [];
    const { problems } = validate(spec, { root, target: "aws" });
    assert.deepEqual(problems.map((p) => p.code).sort(), ["CL_EDGE_LOCALITY", "CL_MIN_GT_MAX", "CL_RATE_LIMIT_INVALID"]);
    for (const p of problems) {
      assert.match(p.message, /\S/);
      assert.match(p.fix, /\S/);
    }
  });

  it("never throws on values that are not specs", () => {
    for (const input of [undefined, null, 42, "spec", [], {}, { apiVersion: "cloudloom/v1" }]) {
      const result = validate(input);
      assert.equal(result.ok, false);
      assert.ok(result.problems.length > 0);
    }
  });

  it("makes toSpec() throw one SpecError listing every problem", () => {
    const app = new App("Bad Name");
    app.region("central", { kind: "edge", placement: {} });
    const error = (() => {
      try {
        app.toSpec({ target: "aws" });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof SpecError);
    assert.equal(error.code, "CL_INVALID_SPEC");
    assert.deepEqual(
      error.problems.map((p) => p.code),
      ["CL_NAME_INVALID"],
    );
    assert.match(error.message, /CL_NAME_INVALID at app/);
  });

  it("does not crash on JavaScript callers passing the wrong things", () => {
    const app = new App("loose");
    const loose = app as unknown as Record<string, (...args: unknown[]) => unknown>;
    loose.function("f", { handler: "f.ts", regions: ["central"], models: "intent" });
    loose.region("r", null);
    loose.route("GET /x", { target: "f" });
    const codes = app.problems().map((p) => `${p.code} ${p.path}`);
    assert.ok(codes.includes("CL_FIELD_TYPE functions.f.regions.0"), codes.join("\n"));
    assert.ok(codes.includes("CL_FIELD_TYPE functions.f.models"), codes.join("\n"));
    assert.ok(
      codes.some((c) => c.startsWith("CL_FIELD_REQUIRED regions.r.")),
      codes.join("\n"),
    );
  });

  it("accepts objectives on routes, functions and models on every target", () => {
    const { spec, root } = fixtureSpec();
    spec.routes["POST /rank"].objectives = [
      { errorRate: "1%", window: "5 minutes", severity: "page" },
      { errorRate: "0.1%", window: "1 hour", severity: "ticket" },
      { p99: "800 ms", window: "10 minutes", severity: "page" },
    ];
    spec.functions.rank.objectives = [{ coldStartShare: "5%", window: "1 day", severity: "ticket" }];
    spec.models["ranker@1"].objectives = [
      { queueDepth: 64, window: "1 minute", severity: "page" },
      { queueAge: "50 ms", window: "5 minutes", severity: "ticket" },
    ];
    for (const target of ["aws", "alicloud", "kubernetes"]) assert.deepEqual(validate(spec, { target, root }).problems, [], target);
  });

  it("refuses every objective threshold that can never alert, naming why", () => {
    const { spec, root } = fixtureSpec();
    const terms = { window: "5 minutes", severity: "page" } as const;
    spec.routes["POST /rank"].objectives = [{ errorRate: "0%", ...terms }];
    spec.routes["POST /models/ranker"].objectives = [{ errorRate: "100%", ...terms }];
    spec.functions.rank.objectives = [{ p99: "30 seconds", ...terms }]; // the function's timeout
    spec.models["ranker@1"].objectives = [{ queueAge: "0 ms", ...terms }];
    spec.models["ranker@2"].objectives = [{ queueDepth: 2.5, ...terms }];
    const problems = validate(spec, { root }).problems;
    assert.deepEqual(
      problems.map((p) => [p.code, p.path]),
      [
        ["CL_OBJECTIVE_THRESHOLD", "routes.POST /models/ranker.objectives.0.errorRate"],
        ["CL_OBJECTIVE_THRESHOLD", "routes.POST /rank.objectives.0.errorRate"],
        ["CL_OBJECTIVE_THRESHOLD", "functions.rank.objectives.0.p99"],
        ["CL_OBJECTIVE_THRESHOLD", "models.ranker@1.objectives.0.queueAge"],
        ["CL_OBJECTIVE_THRESHOLD", "models.ranker@2.objectives.0.queueDepth"],
      ],
    );
    assert.match(problems[2].message, /times out after 30 s/);
  });

  it("refuses windows shorter than a minute or longer than a day, and an objective with no measure", () => {
    const { spec, root } = fixtureSpec();
    spec.routes["POST /rank"].objectives = [
      { p99: "1 second", window: "30 seconds", severity: "page" },
      { p99: "1 second", window: "2 days", severity: "ticket" },
      { window: "5 minutes", severity: "page" },
    ];
    assert.deepEqual(
      validate(spec, { root }).problems.map((p) => [p.code, p.path]),
      [
        ["CL_OBJECTIVE_WINDOW", "routes.POST /rank.objectives.0.window"],
        ["CL_OBJECTIVE_WINDOW", "routes.POST /rank.objectives.1.window"],
        ["CL_OBJECTIVE_MEASURE", "routes.POST /rank.objectives.2"],
      ],
    );
  });

  it("fills in an objective's window and severity, and names the measure a misspelled one meant", () => {
    const app = new App("slo");
    const central = app.region("central", { kind: "central", ...REGION_PLACEMENT });
    const fn = app.function("f", { handler: "f.ts", regions: [central], objectives: [{ coldStartShare: "5%" }] });
    app.route("POST /f", { target: fn, objectives: [{ errorrate: "1%" } as never, { p99: "250 ms", severity: "page" }] });
    const draft = app.toDraft();
    assert.deepEqual(draft.functions.f.objectives, [{ coldStartShare: "5%", severity: "ticket", window: "5 minutes" }]);
    assert.deepEqual(draft.routes["POST /f"].objectives, [
      { severity: "ticket", window: "5 minutes" },
      { p99: "250 ms", severity: "page", window: "5 minutes" },
    ]);
    const problems = app.problems({ root: undefined });
    assert.deepEqual(
      problems.map((p) => [p.code, p.path]),
      [
        ["CL_FIELD_UNKNOWN", "routes.POST /f.objectives.0.errorrate"],
        ["CL_OBJECTIVE_MEASURE", "routes.POST /f.objectives.0"],
      ],
    );
    assert.match(problems[0].message, /did you mean "errorRate"\?/);
  });

  it("is documented: docs/errors.md has a section for every code", () => {
    const doc = readFileSync(join(__dirname, "../../../docs/errors.md"), "utf8");
    const missing = Object.keys(PROBLEM_CODES).filter((code) => !doc.includes(`## ${code}`));
    assert.deepEqual(missing, []);
  });
});
