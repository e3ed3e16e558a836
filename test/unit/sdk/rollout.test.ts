import assert from "node:assert/strict";
import { App, fcCanaries, validate, type RolloutArgs, type RouteArgs, type SpecV1 } from "../../../sdk";

const signature = {
  inputs: { x: { type: "float32" as const, shape: [-1, 1] } },
  outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
};
const artifact = { path: "m.onnx", sha256: "a".repeat(64) };
const GATE = { maxErrorRate: "1%", maxP99: "500 ms" } as const;

/** An app whose route "POST /m" splits m@1 (100) and m@2 (0), with `rollout` (and `route` overrides). */
function rolloutApp(
  rollout: (m: ReturnType<typeof models>) => unknown,
  route: (m: ReturnType<typeof models>) => Partial<RouteArgs> = () => ({}),
) {
  const app = new App("ro");
  const m = models(app);
  app.route("POST /m", {
    target: {
      strategy: "canary",
      versions: [
        { model: m.v1, weight: 100 },
        { model: m.v2, weight: 0 },
      ],
    },
    rollout: rollout(m) as RolloutArgs,
    ...route(m),
  });
  return app;
}

function models(app: App) {
  const central = app.region("central", { kind: "central", placement: {} });
  const model = (name: string, version: string) => app.model(name, { version, artifact, signature, regions: [central] });
  return {
    v1: model("m", "1"),
    v2: model("m", "2"),
    v3: model("m", "3"),
    other: model("other", "2"),
    fn: app.function("f", { handler: "f.ts", regions: [central] }),
  };
}

const problemsOf = (app: App) => app.problems({ root: undefined }).map((p) => `${p.code} ${p.path}`);

describe("rollouts in the SDK and Spec v1", () => {
  it("declares a rollout as plain spec data: the version it rolls out, its steps, interval and gate (minRequests 100 by default)", () => {
    const spec = rolloutApp((m) => ({ to: m.v2, steps: [5, 25, 50, 100], interval: "5 minutes", gate: GATE })).toSpec({
      root: undefined,
    });
    assert.deepEqual(spec.routes["POST /m"].rollout, {
      version: "2",
      steps: [5, 25, 50, 100],
      interval: "5 minutes",
      gate: { maxErrorRate: "1%", maxP99: "500 ms", minRequests: 100 },
    });
    const roundTrip = validate(JSON.parse(JSON.stringify(spec)));
    assert.ok(roundTrip.ok, JSON.stringify(roundTrip.problems));
  });

  it("gates a rollout on the route's strictest objectives where its gate states no threshold of its own", () => {
    const objectives = [
      { errorRate: "2%", window: "5 minutes", severity: "ticket" },
      { errorRate: "0.5%", window: "1 hour", severity: "page" },
      { p99: "800 ms", window: "10 minutes", severity: "page" },
    ] as RouteArgs["objectives"];
    const fromObjectives = rolloutApp(
      (m) => ({ to: m.v2, steps: [5, 100], interval: "5 minutes" }),
      () => ({ objectives }),
    ).toSpec({ root: undefined });
    assert.deepEqual(fromObjectives.routes["POST /m"].rollout?.gate, { maxErrorRate: "0.5%", maxP99: "800 ms", minRequests: 100 });
    const declared = rolloutApp(
      (m) => ({ to: m.v2, steps: [5, 100], interval: "5 minutes", gate: { maxP99: "300 ms", minRequests: 20 } }),
      () => ({ objectives }),
    ).toSpec({ root: undefined });
    assert.deepEqual(
      declared.routes["POST /m"].rollout?.gate,
      { maxErrorRate: "0.5%", maxP99: "300 ms", minRequests: 20 },
      "a threshold the gate states wins over the objective's",
    );
    assert.deepEqual(
      problemsOf(rolloutApp((m) => ({ to: m.v2, steps: [5, 100], interval: "5 minutes" }))),
      ["CL_ROLLOUT_GATE routes.POST /m.rollout.gate"],
      "no gate and no objective: nothing could fail a step",
    );
  });

  it("rolls out the split's last version when `to` is left out", () => {
    const spec = rolloutApp(() => ({
      steps: [50, 100],
      interval: "1 minute",
      gate: { maxErrorRateIncrease: "0.5%", maxP99Ratio: 1.5, minRequests: 20 },
    })).toSpec({
      root: undefined,
    });
    assert.equal(spec.routes["POST /m"].rollout?.version, "2");
  });

  const cases: Array<{
    code: string;
    path: string;
    breaks: string;
    rollout: (m: ReturnType<typeof models>) => unknown;
    route?: (m: ReturnType<typeof models>) => Partial<RouteArgs>;
  }> = [
    {
      code: "CL_ROLLOUT_TARGET",
      path: "routes.POST /m.rollout",
      breaks: "a rollout on a function route",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: GATE }),
      route: (m) => ({ target: m.fn }),
    },
    {
      code: "CL_ROLLOUT_TARGET",
      path: "routes.POST /m.rollout.version",
      breaks: "a rollout over three versions",
      rollout: (m) => ({ to: m.v3, steps: [100], interval: "1 minute", gate: GATE }),
      route: (m) => ({
        target: {
          strategy: "canary",
          versions: [
            { model: m.v1, weight: 100 },
            { model: m.v2, weight: 0 },
            { model: m.v3, weight: 0 },
          ],
        },
      }),
    },
    {
      code: "CL_ROLLOUT_TARGET",
      path: "routes.POST /m.rollout.to",
      breaks: "a rollout of another model's version",
      rollout: (m) => ({ to: m.other, steps: [100], interval: "1 minute", gate: GATE }),
    },
    {
      code: "CL_ROLLOUT_WEIGHTS",
      path: "routes.POST /m.target.weights",
      breaks: "a rollout that does not start from 0 %",
      rollout: (m) => ({ to: m.v2, steps: [50, 100], interval: "1 minute", gate: GATE }),
      route: (m) => ({
        target: {
          strategy: "canary",
          versions: [
            { model: m.v1, weight: 90 },
            { model: m.v2, weight: 10 },
          ],
        },
      }),
    },
    {
      code: "CL_ROLLOUT_STEPS",
      path: "routes.POST /m.rollout.steps",
      breaks: "falling steps",
      rollout: () => ({ steps: [50, 25, 100], interval: "1 minute", gate: GATE }),
    },
    {
      code: "CL_ROLLOUT_STEPS",
      path: "routes.POST /m.rollout.steps",
      breaks: "steps that stop short of 100",
      rollout: () => ({ steps: [5, 50], interval: "1 minute", gate: GATE }),
    },
    {
      code: "CL_ROLLOUT_STEPS",
      path: "routes.POST /m.rollout.steps",
      breaks: "no steps",
      rollout: () => ({ steps: [], interval: "1 minute", gate: GATE }),
    },
    {
      code: "CL_ROLLOUT_STEPS",
      path: "routes.POST /m.rollout.interval",
      breaks: "a zero interval",
      rollout: () => ({ steps: [100], interval: "0 seconds", gate: GATE }),
    },
    {
      code: "CL_ROLLOUT_GATE",
      path: "routes.POST /m.rollout.gate",
      breaks: "a gate without a threshold",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: { minRequests: 10 } }),
    },
    {
      code: "CL_ROLLOUT_GATE",
      path: "routes.POST /m.rollout.gate.maxErrorRate",
      breaks: "an error rate over 100 %",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: { maxErrorRate: "150%" } }),
    },
    {
      code: "CL_ROLLOUT_GATE",
      path: "routes.POST /m.rollout.gate.maxP99Ratio",
      breaks: "a p99 ratio below 1",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: { maxP99Ratio: 0.5 } }),
    },
    {
      code: "CL_ROLLOUT_GATE",
      path: "routes.POST /m.rollout.gate.minRequests",
      breaks: "minRequests of 0",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: { ...GATE, minRequests: 0 } }),
    },
    {
      code: "CL_ROLLOUT_GATE",
      path: "routes.POST /m.rollout.gate.maxP99",
      breaks: "a zero p99",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: { maxP99: "0 ms" } }),
    },
    {
      code: "CL_UNIT_MALFORMED",
      path: "routes.POST /m.rollout.gate.maxErrorRate",
      breaks: "a percent written in words",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: { maxErrorRate: "1 percent" } }),
    },
    {
      code: "CL_FIELD_UNKNOWN",
      path: "routes.POST /m.rollout.gate.maxErorRate",
      breaks: "a misspelled gate field",
      rollout: () => ({ steps: [100], interval: "1 minute", gate: { maxErorRate: "1%", maxP99: "1 second" } }),
    },
    {
      code: "CL_FIELD_TYPE",
      path: "routes.POST /m.rollout.steps",
      breaks: "steps that are not a list",
      rollout: () => ({ steps: "5,100", interval: "1 minute", gate: GATE }),
    },
  ];
  for (const { code, path, breaks, rollout, route } of cases)
    it(`reports ${code} at ${path} for ${breaks}`, () => {
      const problems = problemsOf(rolloutApp(rollout, route));
      assert.ok(problems.includes(`${code} ${path}`), problems.join("\n"));
    });

  it("reports CL_ROLLOUT_TARGET for a Spec v1 document whose rollout sits on a function route", () => {
    const spec = rolloutApp((m) => ({ to: m.v2, steps: [100], interval: "1 minute", gate: GATE })).toDraft() as SpecV1;
    spec.routes["POST /m"].target = { kind: "function", name: "f" };
    const result = validate(spec);
    assert.ok(!result.ok);
    assert.deepEqual(
      result.problems.map((p) => `${p.code} ${p.path}`),
      ["CL_ROLLOUT_TARGET routes.POST /m.rollout"],
    );
  });

  it("keeps a rollout route's split out of the FC aliases: the gateway moves its weights", () => {
    const spec = rolloutApp((m) => ({ to: m.v2, steps: [50, 100], interval: "1 minute", gate: GATE })).toDraft() as SpecV1;
    spec.routes["POST /m"].target = { ...spec.routes["POST /m"].target, weights: { "1": 50, "2": 50 } } as never;
    assert.deepEqual(fcCanaries(spec), []);
    delete spec.routes["POST /m"].rollout;
    assert.deepEqual(
      fcCanaries(spec).map((c) => c.route),
      ["POST /m"],
    );
  });
});
