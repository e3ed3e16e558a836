/** Scheduled floors on AWS end: every scheduled action that raises a scalable target's minimum has one that restores it. */
import type { StackValidationPolicy } from "@pulumi/policy";

const TARGET = "aws:appautoscaling/target:Target";
const ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction";

/** Application Auto Scaling keeps a scheduled minimum until another action changes it: a floor needs its end. */
export const awsFloorsEnd: StackValidationPolicy = {
  name: "cloudloom-aws-floors-end",
  description:
    "Every Application Auto Scaling scheduled action that raises a target's minimum capacity is paired with one that restores the target's own minimum.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const key = (props: Record<string, any>) => `${props.serviceNamespace}|${props.scalableDimension}|${props.resourceId}`;
    const targets = new Map(resources.filter((r) => r.type === TARGET).map((r) => [key(r.props), r]));
    const actions = resources.filter((r) => r.type === ACTION);
    for (const action of actions) {
      const min = action.props.scalableTargetAction?.minCapacity;
      if (typeof min !== "number") continue;
      const peers = actions.filter((a) => a !== action && key(a.props) === key(action.props));
      const target = targets.get(key(action.props));
      const baseline =
        typeof target?.props.minCapacity === "number"
          ? (target.props.minCapacity as number)
          : Math.min(min, ...peers.map((a) => a.props.scalableTargetAction?.minCapacity).filter((m) => typeof m === "number"));
      if (min <= baseline) continue;
      const restored = peers.some((a) => a.props.scalableTargetAction?.minCapacity === baseline);
      if (!restored)
        report(
          `scheduled action ${action.name} raises the minimum capacity of ${action.props.resourceId} to ${min} (${action.props.schedule}) and nothing sets it back to ${baseline}; add a scheduled action at the floor's end with minCapacity ${baseline}`,
          action.urn,
        );
    }
  },
};
