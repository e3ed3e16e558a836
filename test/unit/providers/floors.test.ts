/**
 * Every scheduled floor ends, on every target: the example's floors each get
 * a start and an end at the right cron (the end at `endCron`, start plus the
 * floor's duration), restoring the policy's own minimum.
 */
import assert from "node:assert/strict";
import { wavelengthRegions } from "../../../providers/aws/networks";
import { planApp, stackConfig, type Plan } from "../../../cli/plan";
import example from "../../../examples/support-desk/app";
import { toFcCron } from "../../../providers/alicloud/cron";
import { toAwsCron } from "../../../providers/aws/cron";
import { endCron } from "../../../providers/shared/cron";
import { modelPart, resourceName } from "../../../providers/shared/naming";
import type { ScalingPolicySpec, ScheduleSpec, SpecV1, Target } from "../../../sdk/spec";

/** One declared floor: the entry it scales, the planned name stem of that entry in one region, and the schedule. */
interface Floor {
  entry: string;
  stem: string;
  kind: "function" | "model";
  region: string;
  policy: ScalingPolicySpec;
  schedule: ScheduleSpec;
  index: number;
}

function declaredFloors(spec: SpecV1): Floor[] {
  const floors: Floor[] = [];
  const add = (entry: string, kind: Floor["kind"], stem: (region: string) => string, regions: string[], scaling?: string) => {
    const policy = scaling ? spec.scalingPolicies[scaling] : undefined;
    if (!policy) return;
    for (const region of regions)
      policy.schedules.forEach((schedule, index) => floors.push({ entry, kind, stem: stem(region), region, policy, schedule, index }));
  };
  for (const [name, fn] of Object.entries(spec.functions))
    add(name, "function", (region) => resourceName(spec.app, "fn", name, region), fn.regions, fn.scaling);
  for (const [key, model] of Object.entries(spec.models))
    add(key, "model", (region) => resourceName(spec.app, modelPart(model.name, model.version), region), model.regions, model.scaling);
  return floors;
}

const floorOf = (policy: ScalingPolicySpec) => (policy.scaleToZero ? 0 : policy.minInstances);
const inputs = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};

/** A KEDA cron trigger holding the floor from its start to its end. */
function assertKedaPair(plan: Plan, floor: Floor): void {
  const scaled = inputs(plan, "kubernetes:keda.sh/v1alpha1:ScaledObject", floor.stem);
  const cron = scaled.spec.triggers.filter((t: any) => t.type === "cron");
  assert.deepEqual(cron[floor.index].metadata, {
    timezone: floor.schedule.timezone,
    start: floor.schedule.cron,
    end: endCron(floor.schedule),
    desiredReplicas: String(floor.schedule.minInstances),
  });
  // Outside the window KEDA falls back to the object's own minimum.
  assert.equal(scaled.spec.minReplicaCount, floorOf(floor.policy));
}

describe("scheduled floors end on every target", () => {
  const spec = example.toSpec({ target: "aws" });
  const floors = declaredFloors(spec);
  const plans = new Map<Target, Plan>();

  before(async () => {
    for (const target of ["kubernetes", "aws", "alicloud"] as const)
      plans.set(target, await planApp("examples/support-desk", target, stackConfig(target)));
  });

  it("the example declares floors (the weekday-morning floor of classify, in both regions)", () => {
    assert.deepEqual(
      floors.map((f) => [f.entry, f.region, f.schedule.cron, endCron(f.schedule)]),
      [
        ["classify", "central", "0 8 * * 1-5", "0 9 * * 1-5"],
        ["classify", "edge-berlin", "0 8 * * 1-5", "0 9 * * 1-5"],
      ],
    );
  });

  it("kubernetes: a KEDA cron trigger with start and end per floor", () => {
    for (const floor of floors) assertKedaPair(plans.get("kubernetes")!, floor);
  });

  it("alicloud: an FC scheduled action at the start and one at the end restoring the floor, per floor", () => {
    const plan = plans.get("alicloud")!;
    for (const floor of floors) {
      const config = inputs(plan, "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig", floor.stem);
      const actions = config.scheduledActions.filter(
        (a: any) => a.name === `floor-${floor.index}` || a.name === `floor-${floor.index}-end`,
      );
      assert.deepEqual(
        actions.map((a: any) => [a.name, a.scheduleExpression, a.target, a.timeZone]),
        [
          [`floor-${floor.index}`, toFcCron(floor.schedule.cron), floor.schedule.minInstances, floor.schedule.timezone],
          [`floor-${floor.index}-end`, toFcCron(endCron(floor.schedule)), config.target, floor.schedule.timezone],
        ],
      );
      assert.equal(config.target, floorOf(floor.policy));
    }
  });

  it("aws: an Application Auto Scaling action at the start and one at the end restoring the target's minimum, per floor", () => {
    const plan = plans.get("aws")!;
    for (const floor of floors) {
      if (floor.kind === "model" && spec.models[floor.entry].pool) {
        assertKedaPair(plan, floor); // GPU models run on EKS and scale with KEDA.
        continue;
      }
      if (wavelengthRegions(spec).includes(floor.region)) {
        // A Wavelength region runs its functions on the zone's EKS nodes (the region's own Kubernetes module), scaled by KEDA.
        assertKedaPair(plan, { ...floor, stem: resourceName(spec.app, floor.region, "fn", floor.entry, floor.region) });
        continue;
      }
      const target = inputs(plan, "aws:appautoscaling/target:Target", `${floor.stem}-scaling`);
      const start = inputs(plan, "aws:appautoscaling/scheduledAction:ScheduledAction", `${floor.stem}-floor-${floor.index}`);
      const end = inputs(plan, "aws:appautoscaling/scheduledAction:ScheduledAction", `${floor.stem}-floor-${floor.index}-end`);
      assert.deepEqual(
        [start.resourceId, start.schedule, start.timezone, start.scalableTargetAction],
        [
          target.resourceId,
          toAwsCron(floor.schedule.cron),
          floor.schedule.timezone,
          { minCapacity: floor.schedule.minInstances, maxCapacity: floor.policy.maxInstances },
        ],
      );
      assert.deepEqual(
        [end.resourceId, end.schedule, end.timezone, end.scalableTargetAction],
        [
          target.resourceId,
          toAwsCron(endCron(floor.schedule)),
          floor.schedule.timezone,
          { minCapacity: target.minCapacity, maxCapacity: target.maxCapacity },
        ],
      );
    }
  });
});
