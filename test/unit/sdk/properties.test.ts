import assert from "node:assert/strict";
import fc from "fast-check";
import { ACCELERATORS, App, PROBLEM_CODES, toCanonicalJson, validate, type Accelerator, type Region, type SpecV1 } from "../../../sdk";

const names = (max: number) => fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), { minLength: 1, maxLength: max });
const sha = fc.stringMatching(/^[a-f0-9]{64}$/);

/** A random app that is valid without a target: every reference resolves, every number fits. */
const validApp = fc
  .record({
    regions: names(3),
    policies: names(3),
    functions: names(4),
    models: names(2),
    sha,
    accelerator: fc.constantFrom(...(Object.keys(ACCELERATORS) as Accelerator[])),
    max: fc.integer({ min: 1, max: 50 }),
    memory: fc.integer({ min: 128, max: 10240 }),
    timeout: fc.integer({ min: 1, max: 900 }),
    canary: fc.integer({ min: 0, max: 100 }),
    rate: fc.integer({ min: 1, max: 10_000 }),
    vary: fc.uniqueArray(fc.constantFrom("accept-language", "x-tenant", "accept"), { maxLength: 2 }),
  })
  .map((r) => {
    const app = new App("prop");
    const regions: Region[] = r.regions.map((name, i) =>
      app.region(
        name,
        i === 0
          ? { kind: "central", placement: { aws: { region: "us-east-1" } } }
          : { kind: "edge", localities: [`loc-${name}`], placement: { kubernetes: { labels: { zone: name } } } },
      ),
    );
    const pool = app.gpuPool("pool", { accelerator: r.accelerator, maxSize: r.max, regions });
    const policies = r.policies.map((name, i) =>
      app.scalingPolicy(
        name,
        i % 2 === 0
          ? { maxInstances: r.max, targetConcurrency: 2, scaleToZero: { idleWindow: "5 minutes" } }
          : {
              minInstances: 1,
              maxInstances: r.max,
              targetUtilization: 50,
              schedules: [{ cron: "*/5 8-18 * * 1-5", timezone: "Asia/Shanghai", minInstances: 1 }],
            },
      ),
    );
    const signature = {
      inputs: { x: { type: "float32" as const, shape: [-1, 3] } },
      outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
    };
    const models = r.models.flatMap((name) =>
      ["1", "2"].map((version) =>
        app.model(name, { version, artifact: { path: `${name}.onnx`, sha256: r.sha }, signature, pool, regions, scaling: policies[0] }),
      ),
    );
    r.functions.forEach((name, i) => {
      const fn = app.function(name, {
        handler: `${name}.ts`,
        memory: `${r.memory} MB`,
        timeout: `${r.timeout} seconds`,
        models: [models[0]],
        regions,
        scaling: policies[i % policies.length],
      });
      app.route(`POST /f/${name}`, {
        target: fn,
        rateLimit: { requests: r.rate, per: "1 minute", key: "ip" },
        cache: { ttl: "30 seconds", varyHeaders: r.vary },
      });
    });
    app.route("POST /model", {
      target: {
        strategy: "canary",
        versions: [
          { model: models[0], weight: 100 - r.canary },
          { model: models[1], weight: r.canary },
        ],
      },
    });
    return app;
  });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path inside a JSON value, except the root. */
function pathsOf(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return [];
  const keys = Array.isArray(value) ? value.map((_, i) => String(i)) : Object.keys(value);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...pathsOf((value as Record<string, Json>)[key], path)];
  });
}

/** Values of a different JSON type than `value`, none of which any spec field accepts in its place. */
function wrongTypes(value: Json): Json[] {
  if (typeof value === "string") return [null, 42, true, [], {}];
  if (typeof value === "number") return [null, "7", true, [], {}];
  if (typeof value === "boolean") return [null, "true", 1, []];
  if (Array.isArray(value)) return [null, {}, "x", 1];
  return [null, [], "x", 1];
}

function assertTyped(problems: ReturnType<typeof validate>["problems"]): void {
  assert.ok(problems.length > 0, "a corrupted spec passed validation");
  for (const p of problems) {
    assert.ok(Object.hasOwn(PROBLEM_CODES, p.code), `untyped code ${p.code}`);
    assert.equal(typeof p.path, "string");
    assert.ok(p.message.length > 0 && p.fix.length > 0);
  }
}

describe("spec properties", () => {
  it("random valid apps validate and round-trip through JSON unchanged", () => {
    fc.assert(
      fc.property(validApp, (app) => {
        const spec = app.toSpec({ root: undefined });
        const json = toCanonicalJson(spec);
        assert.deepEqual(JSON.parse(json), spec);
        assert.equal(toCanonicalJson(JSON.parse(json)), json);
        assert.equal(toCanonicalJson(app.toSpec({ root: undefined })), json, "two runs give the same bytes");
      }),
      { numRuns: 200 },
    );
  });

  it("10,000 random corruptions of a valid spec each produce typed problems", function () {
    // About 9 s on an idle 2-core machine and over 40 s on a loaded one: the timeout
    // catches a hang, it does not measure speed.
    this.timeout(600_000);
    const corruption = validApp.chain((app) => {
      const spec = app.toSpec({ root: undefined }) as unknown as Json;
      const paths = pathsOf(spec);
      return fc.record({
        spec: fc.constant(spec),
        path: fc.constantFrom(...paths),
        kind: fc.constantFrom("wrong-type", "unknown-key"),
        pick: fc.nat(),
      });
    });
    fc.assert(
      fc.property(corruption, ({ spec, path, kind, pick }) => {
        const copy = structuredClone(spec) as Record<string, Json>;
        const parent = path.slice(0, -1).reduce<Record<string, Json>>((node, key) => node[key] as Record<string, Json>, copy);
        const key = path[path.length - 1];
        const target = parent[key];
        if (kind === "unknown-key" && target !== null && typeof target === "object" && !Array.isArray(target)) {
          (target as Record<string, Json>)["__Bogus"] = { __bogus: true };
        } else {
          const options = wrongTypes(target);
          parent[key] = options[pick % options.length];
        }
        assertTyped(validate(copy).problems);
      }),
      { numRuns: 10_000 },
    );
  });

  it("keeps two apps in one process independent", () => {
    const a = new App("alpha");
    const b = new App("beta");
    a.region("central", { kind: "central", placement: { aws: { region: "us-east-1" } } });
    b.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
    b.region("edge", { kind: "edge", localities: ["x"], placement: { aws: { region: "eu-west-1" } } });
    const specA: SpecV1 = a.toSpec();
    const specB: SpecV1 = b.toSpec();
    assert.deepEqual(Object.keys(specA.regions), ["central"]);
    assert.deepEqual(Object.keys(specB.regions), ["central", "edge"]);
    assert.equal(specA.regions.central.placement.aws?.region, "us-east-1");
    assert.equal(specB.regions.central.placement.aws?.region, "eu-west-1");
    assert.deepEqual(a.problems(), []);
  });
});
