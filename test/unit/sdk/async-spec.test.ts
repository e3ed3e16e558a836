import assert from "node:assert/strict";
import {
  App,
  asyncEntries,
  routeAsync,
  validate,
  type AsyncArgs,
  type Fn,
  type Model,
  type ProblemCode,
  type SpecV1,
  type Target,
} from "../../../sdk";

const PLACEMENT = {
  aws: { region: "eu-west-1" },
  alicloud: { region: "eu-central-1" },
  kubernetes: { labels: { "topology.kubernetes.io/region": "eu-west-1" } },
};

/** An app with an edge and a central region, a function, a model, and whatever `declare` adds. */
function app(declare: (declared: Parts) => void = () => {}): App {
  const built = new App("queued");
  declare(parts(built));
  return built;
}

interface Parts {
  app: App;
  model: Model;
  /** Declares the function `batch` (timeout 2 minutes), asynchronous with `async` when given. */
  fn: (async?: AsyncArgs | true) => Fn;
}

function parts(built: App): Parts {
  const edge = built.region("edge", { kind: "edge", localities: ["de"], placement: PLACEMENT });
  const central = built.region("central", { kind: "central", placement: PLACEMENT });
  const model = built.model("intent", {
    version: "1",
    artifact: { path: "m.onnx", sha256: "0".repeat(64) },
    signature: { inputs: { x: { type: "float32", shape: [-1, 2] } }, outputs: { y: { type: "float32", shape: [-1, 2] } } },
    regions: [edge, central],
  });
  const fn = (async?: AsyncArgs | true) =>
    built.function("batch", { handler: "batch.ts", timeout: "2 minutes", regions: [edge, central], models: [model], async });
  return { app: built, model, fn };
}

/** The problems (code and path) of the app's spec for `target`, without reading files. */
function problems(built: App, target?: Target): string[] {
  return built.problems({ root: undefined, target }).map((p) => `${p.code} ${p.path}`);
}

describe("asynchronous declarations", () => {
  it("fills every default for async: true, taking the function's timeout (a model's: 1 minute)", () => {
    const built = app(({ app, fn, model }) => {
      app.route("POST /v1/batch", { target: fn(), async: true });
      app.route("POST /v1/models/intent", { target: model, async: { retries: 1 } });
    });
    const spec = built.toSpec({ root: undefined });
    assert.deepEqual(spec.routes["POST /v1/batch"].async, {
      retries: 3,
      backoff: { strategy: "exponential", delay: "1 second" },
      timeout: "2 minutes",
      deadLetter: true,
      retention: "1 day",
    });
    assert.equal(spec.routes["POST /v1/models/intent"].async?.timeout, "1 minute");
    assert.equal(spec.routes["POST /v1/models/intent"].async?.retries, 1);
    // Spec v1 stays plain JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
    assert.equal(validate(JSON.parse(JSON.stringify(spec))).ok, true);
  });

  it("makes every route to an asynchronous function asynchronous, queued once in its first central region", () => {
    const built = app(({ app, fn }) => {
      const batch = fn({ retries: 5, retention: "3 days" });
      app.route("POST /v1/batch", { target: batch });
      app.route("POST /v1/batch/again", { target: batch });
    });
    const spec = built.toSpec({ root: undefined });
    assert.equal(routeAsync(spec, "POST /v1/batch")?.retries, 5);
    assert.deepEqual(
      [...asyncEntries(spec).values()].map((e) => [e.kind, e.name, e.region, e.routes]),
      [["function", "batch", "central", ["POST /v1/batch", "POST /v1/batch/again"]]],
    );
  });

  it("queues each model version a split reaches", () => {
    const built = new App("split");
    const central = built.region("central", { kind: "central", placement: PLACEMENT });
    const version = (v: string) =>
      built.model("m", {
        version: v,
        artifact: { path: "m.onnx", sha256: "0".repeat(64) },
        signature: { inputs: { x: { type: "float32", shape: [-1, 2] } }, outputs: { y: { type: "float32", shape: [-1, 2] } } },
        regions: [central],
      });
    const [v1, v2] = [version("1"), version("2")];
    built.route("POST /m", {
      target: {
        strategy: "canary",
        versions: [
          { model: v1, weight: 90 },
          { model: v2, weight: 10 },
        ],
      },
      async: true,
    });
    const spec = built.toSpec({ root: undefined });
    assert.deepEqual([...asyncEntries(spec).keys()], ["model:m@1", "model:m@2"]);
  });

  it("reports a misspelled async field with the one it meant", () => {
    const built = app(({ app, fn }) => app.route("POST /v1/batch", { target: fn(), async: { retires: 2 } as AsyncArgs }));
    const found = built.problems({ root: undefined });
    assert.equal(found[0].code, "CL_FIELD_UNKNOWN");
    assert.equal(found[0].path, "routes.POST /v1/batch.async.retires");
    assert.match(found[0].message, /did you mean "retries"/);
  });

  const CASES: Array<{ code: ProblemCode; path: string; breaks: string; target?: Target; mutate: (spec: SpecV1) => void }> = [
    {
      code: "CL_ASYNC_RETRIES",
      path: "routes.POST /v1/batch.async.retries",
      breaks: "a fractional retry count",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.retries = 1.5),
    },
    {
      code: "CL_ASYNC_RETRIES",
      path: "routes.POST /v1/batch.async.retries",
      breaks: "more retries than Function Compute allows",
      target: "alicloud",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.retries = 9),
    },
    {
      code: "CL_ASYNC_BACKOFF",
      path: "routes.POST /v1/batch.async.backoff.delay",
      breaks: "a zero backoff",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.backoff.delay = "0 ms"),
    },
    {
      code: "CL_ASYNC_BACKOFF",
      path: "routes.POST /v1/batch.async.backoff.delay",
      breaks: "a backoff longer than SQS can hide a message",
      target: "aws",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.backoff.delay = "13 hours"),
    },
    {
      code: "CL_ASYNC_TIMEOUT",
      path: "routes.POST /v1/batch.async.timeout",
      breaks: "an attempt longer than the function's own timeout",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.timeout = "5 minutes"),
    },
    {
      code: "CL_ASYNC_TIMEOUT",
      path: "routes.POST /v1/batch.async.timeout",
      breaks: "a zero timeout",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.timeout = "0 seconds"),
    },
    {
      code: "CL_ASYNC_RETENTION",
      path: "routes.POST /v1/batch.async.retention",
      breaks: "a retention under a minute",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.retention = "30 seconds"),
    },
    {
      code: "CL_ASYNC_RETENTION",
      path: "routes.POST /v1/batch.async.retention",
      breaks: "a retention longer than Function Compute keeps tasks",
      target: "alicloud",
      mutate: (s) => (s.routes["POST /v1/batch"].async!.retention = "8 days"),
    },
    {
      code: "CL_ASYNC_METHOD",
      path: "routes.PUT /v1/batch",
      breaks: "an asynchronous PUT route",
      mutate: (s) => {
        s.routes["PUT /v1/batch"] = s.routes["POST /v1/batch"];
        delete s.routes["POST /v1/batch"];
      },
    },
    {
      code: "CL_ASYNC_CACHE",
      path: "routes.POST /v1/batch.cache",
      breaks: "a cached asynchronous route",
      mutate: (s) => (s.routes["POST /v1/batch"].cache = { ttl: "1 minute", varyHeaders: [] }),
    },
    {
      code: "CL_ASYNC_CONFLICT",
      path: "routes.POST /v1/batch/other.async",
      breaks: "two routes queueing one function with different settings",
      mutate: (s) =>
        (s.routes["POST /v1/batch/other"] = { ...s.routes["POST /v1/batch"], async: { ...s.routes["POST /v1/batch"].async!, retries: 7 } }),
    },
    {
      code: "CL_ASYNC_TIMEOUT",
      path: "routes.POST /v1/models/intent.async.timeout",
      breaks: "a model's 15-minute attempts on AWS, longer than its Lambda job worker can record",
      target: "aws",
      mutate: (s) =>
        (s.routes["POST /v1/models/intent"] = {
          target: { kind: "model", name: "intent", weights: { "1": 100 }, strategy: "single", sticky: false },
          auth: "api-key",
          async: { ...s.routes["POST /v1/batch"].async!, timeout: "15 minutes" },
        }),
    },
    {
      code: "CL_ASYNC_FUNCTION_HOST",
      path: "routes.POST /v1/batch",
      breaks: "a function queued on AWS whose only region is a Wavelength Zone, which has no Lambda to work its queue",
      target: "aws",
      mutate: (s) => {
        s.regions.edge.placement.aws = { region: "eu-central-1", zone: "eu-central-1-wl1-ber-wlz-1", zoneType: "wavelength" };
        s.functions.batch.regions = ["edge"];
      },
    },
    {
      code: "CL_ASYNC_FUNCTION_HOST",
      path: "routes.POST /v1/batch",
      breaks: "a function queued on Alibaba Cloud whose only region runs on an ENS node's instances",
      target: "alicloud",
      mutate: (s) => {
        s.regions.edge.placement.alicloud = { region: "cn-hangzhou", ensRegion: "cn-dalian-unicom" };
        s.functions.batch.regions = ["edge"];
      },
    },
    {
      code: "CL_ASYNC_MODEL_HOST",
      path: "routes.POST /v1/models/intent.async",
      breaks: "a model queued on AWS whose only region is a Wavelength Zone, reached only through that zone's gateway",
      target: "aws",
      mutate: (s) => {
        s.regions.edge.placement.aws = { region: "eu-central-1", zone: "eu-central-1-wl1-ber-wlz-1", zoneType: "wavelength" };
        s.models["intent@1"].regions = ["edge"];
        s.routes["POST /v1/models/intent"] = {
          target: { kind: "model", name: "intent", weights: { "1": 100 }, strategy: "single", sticky: false },
          auth: "api-key",
          async: s.routes["POST /v1/batch"].async,
        };
      },
    },
    {
      code: "CL_ASYNC_MODEL_HOST",
      path: "routes.POST /v1/models/intent.async",
      breaks: "a model queued on Alibaba Cloud whose only region runs on an ENS node's instances",
      target: "alicloud",
      mutate: (s) => {
        s.regions.edge.placement.alicloud = { region: "cn-hangzhou", ensRegion: "cn-dalian-unicom" };
        s.models["intent@1"].regions = ["edge"];
        s.routes["POST /v1/models/intent"] = {
          target: { kind: "model", name: "intent", weights: { "1": 100 }, strategy: "single", sticky: false },
          auth: "api-key",
          async: s.routes["POST /v1/batch"].async,
        };
      },
    },
    {
      code: "CL_ASYNC_MODEL_HOST",
      path: "routes.POST /v1/models/intent.async",
      breaks: "a model queued on Alibaba Cloud whose GPU pool runs on ACK",
      target: "alicloud",
      mutate: (s) => {
        s.gpuPools.t4 = {
          accelerator: "nvidia-t4",
          gpusPerInstance: 1,
          gpuMemory: "16 GB",
          minSize: 0,
          maxSize: 1,
          capacity: "on-demand",
          platform: "kubernetes",
          regions: ["edge", "central"],
        };
        s.models["intent@1"].pool = "t4";
        s.routes["POST /v1/models/intent"] = {
          target: { kind: "model", name: "intent", weights: { "1": 100 }, strategy: "single", sticky: false },
          auth: "api-key",
          async: s.routes["POST /v1/batch"].async,
        };
      },
    },
  ];

  for (const { code, path, breaks, target, mutate } of CASES) {
    it(`reports ${code} for ${breaks}`, () => {
      const spec = app(({ app, fn }) => app.route("POST /v1/batch", { target: fn(), async: true })).toSpec({ root: undefined });
      mutate(spec);
      const result = validate(spec, { target });
      assert.equal(result.ok, false, `${breaks} passed validation`);
      const found = result.problems.map((p) => `${p.code} ${p.path}`);
      assert.deepEqual(found, [`${code} ${path}`]);
      for (const p of result.problems) assert.match(p.fix, /\S/);
    });
  }

  it("accepts a model route queued on every target (a job worker on AWS, FC's asynchronous invocation on Alibaba Cloud), and nine retries on AWS", () => {
    const built = app(({ app, fn, model }) => {
      app.route("POST /v1/batch", { target: fn(), async: { retries: 9 } });
      app.route("POST /v1/models/intent", { target: model, async: true });
    });
    assert.deepEqual(problems(built, "kubernetes"), []);
    assert.deepEqual(problems(built, "aws"), []);
    assert.deepEqual(problems(built, "alicloud"), ["CL_ASYNC_RETRIES routes.POST /v1/batch.async.retries"]);
  });

  it("passes a declared async that is not an object to validation, which names its type", () => {
    const built = app(({ app, fn }) => app.route("POST /v1/batch", { target: fn(), async: "yes" as never }));
    assert.deepEqual(problems(built), ["CL_FIELD_TYPE routes.POST /v1/batch.async"]);
  });
});
