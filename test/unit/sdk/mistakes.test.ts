import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { onnx } from "onnx-proto";
import {
  App,
  AppLoadError,
  closest,
  editDistance,
  loadApp,
  OnnxFormatError,
  PROBLEM_CODES,
  readOnnxGraph,
  type Problem,
  type TensorSpec,
} from "../../../sdk";
import example from "../../../examples/support-desk/app";

const MISTAKES = resolve(__dirname, "../../fixtures/mistakes");
const INTENT = resolve(__dirname, "../../../examples/support-desk/model/intent.onnx");
const INTENT_ARTIFACT = { path: INTENT, sha256: example.toDraft().models["intent@1"].artifact.sha256 };
const PLACEMENT = { aws: { region: "us-east-1" } };

const codes = (problems: readonly Problem[]) => problems.map((p) => `${p.code} ${p.path}`);

function assertTyped(problems: readonly Problem[]): void {
  for (const p of problems) {
    assert.ok(Object.hasOwn(PROBLEM_CODES, p.code), `untyped code ${p.code}`);
    assert.equal(typeof p.path, "string");
    assert.ok(p.message.length > 0 && p.fix.length > 0, JSON.stringify(p));
  }
}

/** A directory with the given files, for modules that must not live in the repository (syntax errors). */
function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "cloudloom-mistakes-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Full declaration arguments, every nested object present, with handles of `app`. */
function sampleArgs(app: App) {
  const region = app.region("r", { kind: "central", placement: PLACEMENT });
  const pool = app.gpuPool("g", { accelerator: "nvidia-t4", maxSize: 1, regions: [region] });
  const policy = app.scalingPolicy("p", { maxInstances: 2, targetConcurrency: 1 });
  const model = app.model("m", {
    version: "1",
    artifact: { path: "m.onnx", sha256: "a".repeat(64) },
    signature: { inputs: { x: { type: "float32", shape: [-1, 4] } }, outputs: { y: { type: "float32", shape: [-1, 2] } } },
    regions: [region],
  });
  const fn = app.function("f", { handler: "f.ts", regions: [region] });
  return {
    region: {
      kind: "edge",
      localities: ["de"],
      latencyBudget: "20 ms",
      placement: {
        aws: { region: "eu-central-1", zone: "eu-central-1-ber-1a", zoneType: "local-zone" },
        alicloud: { region: "eu-central-1", ensRegion: "x" },
        kubernetes: { labels: { zone: "a" }, tolerations: ["edge"] },
      },
    },
    gpuPool: {
      accelerator: "nvidia-t4",
      gpusPerInstance: 1,
      gpuMemory: "16 GB",
      minSize: 0,
      maxSize: 2,
      capacity: "spot",
      regions: [region],
    },
    scalingPolicy: {
      minInstances: 0,
      maxInstances: 4,
      targetConcurrency: 2,
      scaleToZero: { idleWindow: "5 minutes" },
      schedules: [{ cron: "0 8 * * *", timezone: "UTC", minInstances: 0, duration: "1 hour" }],
      prewarm: { leadTime: "2 minutes", lookBack: "7 days" },
    },
    model: {
      version: "2",
      artifact: { path: "m.onnx", sha256: "a".repeat(64) },
      signature: { inputs: { x: { type: "float32", shape: [-1, 4] } }, outputs: { y: { type: "float32", shape: [-1, 2] } } },
      pool,
      batching: { maxBatchSize: 8, maxDelay: "2 ms", maxQueue: 64 },
      regions: [region],
      scaling: policy,
      coldStart: "1 second",
      memory: "1 GB",
    },
    function: {
      handler: { module: "f.ts", export: "handler" },
      memory: "512 MB",
      timeout: "10 seconds",
      concurrency: 4,
      environment: { TOKEN: { secret: "token" }, MODE: "fast" },
      models: [model],
      regions: [region],
      scaling: policy,
    },
    route: {
      target: { strategy: "canary", versions: [{ model, weight: 100 }], sticky: true },
      auth: "api-key",
      rateLimit: { requests: 10, per: "1 second", burst: 1, key: "ip", onStoreFailure: "open" },
      cache: { ttl: "1 minute", varyHeaders: ["accept"] },
    },
    fn,
  };
}

type Method = "region" | "gpuPool" | "scalingPolicy" | "model" | "function" | "route";
const SECTION: Record<Method, [section: string, name: string]> = {
  region: ["regions", "x"],
  gpuPool: ["gpuPools", "x"],
  scalingPolicy: ["scalingPolicies", "x"],
  model: ["models", "m@2"],
  function: ["functions", "x"],
  route: ["routes", "POST /x"],
};

function declare(app: App, method: Method, args: unknown): void {
  const loose = app as unknown as Record<Method, (name: string, args: unknown) => unknown>;
  loose[method].call(app, method === "model" ? "m" : method === "route" ? "POST /x" : "x", args);
}

/** Fields whose value is a record of free keys, where a new key is an entry rather than a typo. */
const RECORDS = new Set(["labels", "environment", "inputs", "outputs"]);

/** Paths (as key lists) of every plain object of fields inside `value`, handles and records excepted, the root included. */
function objectPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object" || value.constructor !== Object) {
    return Array.isArray(value) ? value.flatMap((item, i) => objectPaths(item, [...prefix, String(i)])) : [];
  }
  const nested = Object.entries(value).flatMap(([key, item]) =>
    RECORDS.has(key)
      ? Object.entries(item as object).flatMap(([k, v]) => objectPaths(v, [...prefix, key, k]))
      : objectPaths(item, [...prefix, key]),
  );
  return [prefix, ...nested];
}

describe("mistakes caught before deploy", () => {
  describe("did you mean", () => {
    it("counts a swap of neighbours as one edit", () => {
      assert.equal(editDistance("memroy", "memory"), 1);
      assert.equal(editDistance("maxBatchSzie", "maxBatchSize"), 1);
      assert.equal(editDistance("", "abc"), 3);
    });

    it("suggests only a close word", () => {
      assert.equal(closest("memroy", ["memory", "timeout"]), "memory");
      assert.equal(closest("Memory", ["memory"]), "memory");
      assert.equal(closest("nvidia-t5", ["nvidia-t4", "nvidia-a10"]), "nvidia-t4");
      assert.equal(closest("__Bogus", ["memory", "timeout", "models"]), undefined);
      assert.equal(closest("x", ["y"]), "y");
      assert.equal(closest("ab", ["xy"]), undefined);
      assert.equal(closest("locality", ["kind", "localities"]), "localities");
      assert.equal(closest("region", ["handler", "regions"]), "regions");
    });
  });

  describe("unknown fields in declarations", () => {
    const typos: Array<[Method, (args: any) => void, string, string]> = [
      ["function", (a) => ((a.memroy = a.memory), delete a.memory), "functions.x.memroy", "memory"],
      ["function", (a) => (a.handler.exprot = "handler"), "functions.x.handler.exprot", "export"],
      ["function", (a) => (a.environment.TOKEN.secrte = "t"), "functions.x.environment.TOKEN.secrte", "secret"],
      ["model", (a) => (a.batching.maxBatchSzie = 32), "models.m@2.batching.maxBatchSzie", "maxBatchSize"],
      ["model", (a) => (a.artifact.sha265 = a.artifact.sha256), "models.m@2.artifact.sha265", "sha256"],
      ["model", (a) => (a.signature.inputs.x.shpae = [1]), "models.m@2.signature.inputs.x.shpae", "shape"],
      ["model", (a) => (a.coldstart = "1 second"), "models.m@2.coldstart", "coldStart"],
      ["region", (a) => (a.placement.aws.regoin = "x"), "regions.x.placement.aws.regoin", "region"],
      ["region", (a) => (a.locality = ["x"]), "regions.x.locality", "localities"],
      ["gpuPool", (a) => (a.gpuPerInstance = 2), "gpuPools.x.gpuPerInstance", "gpusPerInstance"],
      ["scalingPolicy", (a) => (a.schedules[0].timeZone = "UTC"), "scalingPolicies.x.schedules.0.timeZone", "timezone"],
      ["scalingPolicy", (a) => (a.prewarm.leadtime = "1 minute"), "scalingPolicies.x.prewarm.leadtime", "leadTime"],
      ["scalingPolicy", (a) => (a.scaleToZero.idleWindw = "1 minute"), "scalingPolicies.x.scaleToZero.idleWindw", "idleWindow"],
      ["route", (a) => (a.rateLimit.request = 5), "routes.POST /x.rateLimit.request", "requests"],
      ["route", (a) => (a.cache.varyHeader = ["a"]), "routes.POST /x.cache.varyHeader", "varyHeaders"],
      ["route", (a) => (a.target.versions[0].wieght = 1), "routes.POST /x.target.versions.0.wieght", "weight"],
      ["route", (a) => (a.target.stiky = true), "routes.POST /x.target.stiky", "sticky"],
    ];
    for (const [method, mutate, path, meant] of typos) {
      it(`reports CL_FIELD_UNKNOWN at ${path} with did you mean "${meant}"`, () => {
        const app = new App("typo");
        const args = sampleArgs(app)[method] as Record<string, unknown>;
        mutate(args);
        declare(app, method, args);
        const unknown = app.problems({ root: undefined }).filter((p) => p.code === "CL_FIELD_UNKNOWN");
        assert.deepEqual(codes(unknown), [`CL_FIELD_UNKNOWN ${path}`]);
        assert.match(unknown[0].message, new RegExp(`did you mean "${meant}"\\?`));
        assert.match(unknown[0].fix, new RegExp(`rename .* to "${meant}"`));
      });
    }

    it("reports a key injected into every object of every declaration, and only that", () => {
      let checked = 0;
      for (const method of Object.keys(SECTION) as Method[]) {
        const paths = objectPaths(sampleArgs(new App("probe"))[method]);
        for (const keys of paths) {
          const app = new App("inject");
          const args = sampleArgs(app)[method] as Record<string, any>;
          const target = keys.reduce((node, key) => node[key], args);
          target.__Bogus = { __bogus: true };
          declare(app, method, args);
          const [section, name] = SECTION[method];
          const expected = [section, name, ...keys, "__Bogus"].join(".");
          const problems = app.problems({ root: undefined });
          assert.deepEqual(codes(problems), [`CL_FIELD_UNKNOWN ${expected}`], `${method} ${keys.join(".")}`);
          assert.match(problems[0].fix, /remove "__Bogus"; .* takes: /);
          checked++;
        }
      }
      assert.ok(checked >= 24, `only ${checked} objects checked`);
    });

    it("gives JavaScript callers passing non-objects typed problems, never a crash", () => {
      for (const method of Object.keys(SECTION) as Method[]) {
        for (const junk of [null, undefined, 42, "x", [], true]) {
          const app = new App("junk");
          declare(app, method, junk);
          const problems = app.problems({ root: undefined });
          assertTyped(problems);
          const [section, name] = SECTION[method];
          const at = `${section}.${method === "model" ? "m@undefined" : name}`;
          assert.ok(codes(problems).includes(`CL_FIELD_TYPE ${at}`), `${method}(${JSON.stringify(junk)}): ${codes(problems).join(", ")}`);
        }
      }
    });

    it("never crashes on random values in any field of any declaration", () => {
      const junk = fc.oneof(fc.constantFrom(null, undefined, 0, -1, "", "x", true, [], {}, [1, "a"], { a: 1 }), fc.anything());
      const fields = fc.constantFrom(...(Object.keys(SECTION) as Method[])).chain((method) => {
        const paths = objectPaths(sampleArgs(new App("probe"))[method]);
        return fc.record({
          method: fc.constant(method),
          at: fc.constantFrom(...paths),
          pick: fc.nat(),
          key: fc.option(fc.string()),
          value: junk,
        });
      });
      fc.assert(
        fc.property(fields, ({ method, at, pick, key, value }) => {
          const app = new App("fuzz");
          const args = sampleArgs(app)[method] as Record<string, any>;
          const target = at.reduce((node, k) => node[k], args);
          const keys = Object.keys(target);
          target[key ?? keys[pick % keys.length]] = value;
          declare(app, method, args);
          assertTyped(app.problems({ root: undefined }));
        }),
        { numRuns: 2_000 },
      );
    });
  });

  describe("accelerators", () => {
    it("reports an unknown accelerator with the known ones, not a missing gpuMemory", () => {
      const app = new App("gpus");
      const r = app.region("r", { kind: "central", placement: PLACEMENT });
      app.gpuPool("gpu", { accelerator: "nvidia-t5" as "nvidia-t4", maxSize: 1, regions: [r] });
      const problems = app.problems({ root: undefined });
      assert.deepEqual(codes(problems), ["CL_UNKNOWN_ACCELERATOR gpuPools.gpu.accelerator"]);
      assert.match(problems[0].message, /did you mean "nvidia-t4"\?/);
      assert.match(problems[0].message, /nvidia-t4, nvidia-a10, nvidia-l4, nvidia-l20, nvidia-a100, nvidia-h100/);
    });
  });

  describe("ONNX graphs", () => {
    const F = onnx.TensorProto.DataType;
    const info = (name: string, elemType: number, dims: Array<number | string | null> | null): onnx.IValueInfoProto => ({
      name,
      type: {
        tensorType: {
          elemType,
          ...(dims && {
            shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : typeof d === "string" ? { dimParam: d } : {})) },
          }),
        },
      },
    });
    const model = (graph: onnx.IGraphProto, irVersion = 7) =>
      Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion, opsetImport: [{ version: 13 }], graph })).finish());

    it("reads the example's inputs and outputs as onnx-proto decodes them", () => {
      const bytes = readFileSync(INTENT);
      const decoded = onnx.ModelProto.decode(bytes).graph!;
      const graph = readOnnxGraph(bytes);
      const fromProto = (list: onnx.IValueInfoProto[]) =>
        list.map((v) => ({
          name: v.name,
          kind: "tensor",
          elemType: v.type!.tensorType!.elemType,
          dims: v.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))),
        }));
      assert.deepEqual(graph, { inputs: fromProto(decoded.input!), outputs: fromProto(decoded.output!) });
      assert.deepEqual(graph.inputs, [{ name: "features", kind: "tensor", elemType: 1, dims: ["batch", 512] }]);
    });

    it("reads unknown dimensions and ranks, leaves out initializers, and tells sequences apart", () => {
      const bytes = model(
        {
          input: [info("ids", F.INT64, [null, 16]), info("W", F.FLOAT, [16, 4]), info("any", F.DOUBLE, null)],
          initializer: [{ name: "W", dims: [16, 4], dataType: F.FLOAT, rawData: Buffer.alloc(256) }],
          output: [{ name: "seq", type: { sequenceType: { elemType: { tensorType: { elemType: F.FLOAT } } } } }],
        },
        3,
      );
      assert.deepEqual(readOnnxGraph(bytes), {
        inputs: [
          { name: "ids", kind: "tensor", elemType: 7, dims: [undefined, 16] },
          { name: "any", kind: "tensor", elemType: 11, dims: undefined },
        ],
        outputs: [{ name: "seq", kind: "sequence" }],
      });
    });

    it("refuses bytes that are not ONNX, whole or cut short", () => {
      for (const bytes of [Buffer.from("not really onnx, but bytes with a hash"), Buffer.alloc(0), readFileSync(INTENT).subarray(0, 200)]) {
        assert.throws(() => readOnnxGraph(bytes), OnnxFormatError);
      }
    });

    /** Problems of a model declaring `signature` against the ONNX file `bytes`. */
    function signatureProblems(bytes: Buffer, signature: { inputs: Record<string, TensorSpec>; outputs: Record<string, TensorSpec> }) {
      const root = tempDir({});
      writeFileSync(join(root, "m.onnx"), bytes);
      const app = new App("sig", { root, inspectFiles: true });
      const r = app.region("r", { kind: "central", placement: PLACEMENT });
      app.model("m", {
        version: "1",
        artifact: { path: "m.onnx", sha256: createHash("sha256").update(bytes).digest("hex") },
        signature,
        regions: [r],
      });
      return app.problems();
    }
    const out = { y: { type: "float32" as const, shape: [-1, 2] } };
    const file = model({
      input: [info("ids", F.INT64, ["batch", 16]), info("mask", F.BOOL, ["batch", 16])],
      output: [info("y", F.FLOAT, ["batch", 2])],
    });
    const both = { ids: { type: "int64" as const, shape: [-1, 16] }, mask: { type: "bool" as const, shape: [-1, 16] } };

    it("accepts a signature that matches, with -1 or a number for a symbolic dimension", () => {
      assert.deepEqual(signatureProblems(file, { inputs: both, outputs: out }), []);
      assert.deepEqual(signatureProblems(file, { inputs: { ...both, ids: { type: "int64", shape: [8, 16] } }, outputs: out }), []);
    });

    const mismatches: Array<[string, Record<string, TensorSpec>, Record<string, TensorSpec>, string, RegExp]> = [
      [
        "a wrong element type",
        { ...both, ids: { type: "float32", shape: [-1, 16] } },
        out,
        "models.m@1.signature.inputs.ids",
        /its type is int64, not float32/,
      ],
      [
        "a wrong rank",
        { ...both, ids: { type: "int64", shape: [-1] } },
        out,
        "models.m@1.signature.inputs.ids",
        /it has 2 dimension\(s\), not 1/,
      ],
      [
        "a wrong fixed dimension",
        { ...both, mask: { type: "bool", shape: [-1, 8] } },
        out,
        "models.m@1.signature.inputs.mask",
        /dimension 1 is 16, not 8/,
      ],
      [
        "a misspelled input",
        { ...both, mask: undefined!, msak: both.mask },
        out,
        "models.m@1.signature.inputs.msak",
        /no input "msak"; did you mean "mask"\?/,
      ],
      ["an input left out", { ids: both.ids }, out, "models.m@1.signature.inputs", /needs input "mask" \(bool \[batch, 16\]\)/],
      ["an output the file lacks", both, { z: out.y }, "models.m@1.signature.outputs.z", /has no output "z"/],
    ];
    for (const [breaks, inputs, outputs, path, message] of mismatches) {
      it(`reports CL_SIGNATURE_MISMATCH at ${path} for ${breaks}`, () => {
        const clean = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined));
        const problems = signatureProblems(file, { inputs: clean, outputs });
        assert.deepEqual(codes(problems), [`CL_SIGNATURE_MISMATCH ${path}`]);
        assert.match(problems[0].message, message);
      });
    }

    it("reports a dynamic declaration of a dimension the file fixes", () => {
      const fixed = model({ input: [info("x", F.FLOAT, [1, 4])], output: [info("y", F.FLOAT, [1, 2])] });
      const problems = signatureProblems(fixed, {
        inputs: { x: { type: "float32", shape: [-1, 4] } },
        outputs: { y: { type: "float32", shape: [1, 2] } },
      });
      assert.deepEqual(codes(problems), ["CL_SIGNATURE_MISMATCH models.m@1.signature.inputs.x"]);
      assert.match(problems[0].message, /dimension 0 is fixed at 1, not dynamic/);
      assert.match(problems[0].fix, /shape: \[1, 4\]/);
    });

    it("reports the example's [-1, 256] against its 512-wide input, naming what the file says", () => {
      const app = new App("wide", { root: MISTAKES, inspectFiles: true });
      const r = app.region("r", { kind: "central", placement: PLACEMENT });
      app.model("intent", {
        version: "1",
        artifact: INTENT_ARTIFACT,
        signature: {
          inputs: { features: { type: "float32", shape: [-1, 256] } },
          outputs: { probabilities: { type: "float32", shape: [-1, 5] } },
        },
        regions: [r],
      });
      const problems = app.problems();
      assert.deepEqual(codes(problems), ["CL_SIGNATURE_MISMATCH models.intent@1.signature.inputs.features"]);
      assert.match(problems[0].message, /float32 \[batch, 512\]/);
      assert.match(problems[0].fix, /shape: \[-1, 512\]/);
    });

    it("reads the file only once its sha256 matches, and only with inspectFiles", () => {
      const bad = { inputs: { features: { type: "int64" as const, shape: [-1, 3] } }, outputs: {} };
      const declare = (inspectFiles: boolean, sha256: string) => {
        const app = new App("gate", { root: MISTAKES, inspectFiles });
        const r = app.region("r", { kind: "central", placement: PLACEMENT });
        app.model("intent", { version: "1", artifact: { path: INTENT, sha256 }, signature: bad, regions: [r] });
        return codes(app.problems());
      };
      assert.deepEqual(declare(false, INTENT_ARTIFACT.sha256), []);
      assert.deepEqual(declare(true, "0".repeat(64)), ["CL_ARTIFACT_SHA256_MISMATCH models.intent@1.artifact.sha256"]);
      assert.deepEqual(declare(true, INTENT_ARTIFACT.sha256), ["CL_SIGNATURE_MISMATCH models.intent@1.signature.inputs.features"]);
    });
  });

  describe("handler modules", () => {
    function handlerApp(root: string, handler: string | { module: string; export?: string }, inspectFiles = true): App {
      const app = new App("handlers", { root, inspectFiles });
      const r = app.region("r", { kind: "central", placement: PLACEMENT });
      app.function("f", { handler, regions: [r] });
      return app;
    }

    it("accepts a module that loads and exports its handler, with or without the extension", () => {
      assert.deepEqual(handlerApp(MISTAKES, "handlers/classify.ts").problems(), []);
      assert.deepEqual(handlerApp(MISTAKES, "handlers/classify").problems(), []);
      assert.deepEqual(handlerApp(MISTAKES, { module: "handlers/no-export.ts", export: "handle" }).problems(), []);
    });

    it("reports a missing module, with the nearest file", () => {
      const problems = handlerApp(MISTAKES, "handlers/clasify.ts").problems();
      assert.deepEqual(codes(problems), ["CL_HANDLER_MISSING functions.f.handler"]);
      assert.match(problems[0].message, /did you mean "handlers\/classify.ts"\?/);
      assert.deepEqual(codes(handlerApp(MISTAKES, "nowhere/f.ts").problems()), ["CL_HANDLER_MISSING functions.f.handler"]);
    });

    it("reports a syntax error with its file and line", () => {
      const root = tempDir({ "broken.ts": "export const handler = async () => {\n  return { ok: true ;\n};\n" });
      const problems = handlerApp(root, "broken.ts").problems();
      assert.deepEqual(codes(problems), ["CL_HANDLER_LOAD functions.f.handler"]);
      assert.match(problems[0].message, /syntax error at broken\.ts:2:\d+: /);
    });

    it("reports a module that throws while loading, with where", () => {
      const problems = handlerApp(MISTAKES, "handlers/throws.ts").problems();
      assert.deepEqual(codes(problems), ["CL_HANDLER_LOAD functions.f.handler"]);
      assert.match(problems[0].message, /CRM_URL is not set \(at handlers\/throws\.ts:3\)/);
    });

    it("reports a module without the named function export, suggesting the one it has", () => {
      const problems = handlerApp(MISTAKES, "handlers/no-export.ts").problems();
      assert.deepEqual(codes(problems), ["CL_HANDLER_EXPORT functions.f.handler"]);
      assert.match(problems[0].message, /did you mean "handle"\?/);
      assert.deepEqual(codes(handlerApp(MISTAKES, { module: "handlers/no-export.ts", export: "VERSION" }).problems()), [
        "CL_HANDLER_EXPORT functions.f.handler",
      ]);
    });

    it("loads handlers only with inspectFiles and a root", () => {
      assert.deepEqual(handlerApp(MISTAKES, "nowhere.ts", false).problems(), []);
      assert.deepEqual(handlerApp(MISTAKES, "nowhere.ts").problems({ root: undefined }), []);
      assert.deepEqual(codes(handlerApp(MISTAKES, "nowhere.ts", false).problems({ inspectFiles: true })), [
        "CL_HANDLER_MISSING functions.f.handler",
      ]);
    });
  });

  describe("loadApp()", () => {
    const loadError = (location: string): AppLoadError => {
      try {
        loadApp(location);
      } catch (error) {
        assert.ok(error instanceof AppLoadError, String(error));
        return error;
      }
      assert.fail(`${location} loaded`);
    };

    it("turns file inspection on, so the mistakes fixture shows every mistake at once", () => {
      const app = loadApp(MISTAKES);
      assert.equal(app.inspectFiles, true);
      assert.deepEqual(codes(app.problems()), [
        "CL_FIELD_UNKNOWN models.intent@1.batching.maxBatchSzie",
        "CL_FIELD_UNKNOWN functions.classify.memroy",
        "CL_SIGNATURE_MISMATCH models.intent@1.signature.inputs.features",
        "CL_UNKNOWN_ACCELERATOR gpuPools.gpu.accelerator",
        "CL_HANDLER_MISSING functions.missing.handler",
        "CL_HANDLER_EXPORT functions.no-export.handler",
        "CL_HANDLER_LOAD functions.throws.handler",
      ]);
      assert.deepEqual(loadApp("examples/support-desk").problems(), []);
    });

    it("names the file and line of a syntax error in the app", () => {
      const dir = tempDir({ "app.ts": 'import { App } from "cloudloom";\nconst app = new App("x" { root: __dirname });\n' });
      assert.match(loadError(dir).message, /app\.ts does not load: syntax error at .*app\.ts:2:\d+: /);
    });

    it("says what a module exports when it exports no App", () => {
      assert.match(
        loadError(join(MISTAKES, "handlers/no-export.ts")).message,
        /does not export an App \(it exports (handle, VERSION|VERSION, handle)\)/,
      );
    });

    it("refuses a file that is not a module in one line", () => {
      const error = loadError("README.md");
      assert.equal(error.message, "README.md is not a TypeScript or JavaScript module");
      assert.equal(error.code, "CL_APP_LOAD");
    });

    it("reports an app module that throws while loading, with where", () => {
      const dir = tempDir({ "app.ts": "const settings: Record<string, string> = {};\nexport default settings.region.toUpperCase();\n" });
      assert.match(loadError(join(dir, "app.ts")).message, /does not load: TypeError: .* \(at .*app\.ts:2\)/);
    });
  });
});
