import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import { FC_NAMESPACE } from "../../../../providers/alicloud/alerts";
import type { PlannedResource } from "../../../../providers/plan";

const RULE = "alicloud:cms/alarm:Alarm";
const byName = (resources: PlannedResource[], type: string): Record<string, any> =>
  Object.fromEntries(resources.filter((r) => r.type === type).map((r) => [r.name, r.inputs]));

describe("Alibaba Cloud alarm rules from objectives (the example under mocks, from Pulumi.dev-alicloud.yaml)", () => {
  let plan: Plan;
  let rules: Record<string, any>;

  before(async () => {
    plan = await planApp("examples/support-desk", "alicloud", { ...stackConfig("alicloud"), alertEmails: "oncall@example.com" });
    rules = byName(plan.resources, RULE);
  });

  it("makes a CloudMonitor rule per objective, FC function and region, each with its region's provider", () => {
    const names = (prefix: string) => ["central", "edge-berlin"].map((region) => `support-desk-${prefix}-${region}`);
    assert.deepEqual(Object.keys(rules).sort(), [
      ...names("route-post-v1-classify-error-rate-page-fn-classify"),
      ...names("route-post-v1-classify-error-rate-ticket-fn-classify"),
      ...names("route-post-v1-classify-p99-page-fn-classify"),
      ...names("route-post-v1-models-intent-error-rate-page-intent-v1"),
      ...names("route-post-v1-models-intent-p99-ticket-intent-v1"),
      "support-desk-route-post-v1-tickets-reclassify-error-rate-ticket-fn-reclassify-central",
    ]);
    for (const r of plan.resources.filter((x) => x.type === RULE)) {
      const region = r.name.endsWith("edge-berlin") ? "edge-berlin" : "central";
      assert.match(r.provider ?? "", new RegExp(`::support-desk-${region}::`), r.name);
    }
  });

  it("judges the error rate on FC's function-error rate, every minute of the window, at the objective's severity", () => {
    const rule = rules["support-desk-route-post-v1-classify-error-rate-page-fn-classify-central"];
    assert.deepEqual(
      [rule.project, rule.metric, rule.period, JSON.parse(rule.metricDimensions)],
      [FC_NAMESPACE, "FunctionFunctionErrorsRate", 60, [{ region: "eu-central-1", functionName: "support-desk-fn-classify-central" }]],
    );
    assert.deepEqual(rule.escalationsCritical, { statistics: "Average", comparisonOperator: ">", threshold: "2", times: 5 });
    assert.equal(rule.escalationsWarn, undefined);
    const ticket = rules["support-desk-route-post-v1-classify-error-rate-ticket-fn-classify-central"];
    assert.deepEqual(ticket.escalationsWarn, { statistics: "Average", comparisonOperator: ">", threshold: "0.5", times: 60 });
    assert.equal(ticket.escalationsCritical, undefined);
    assert.deepEqual(rule.tags, {
      "cloudloom.dev/app": "support-desk",
      "cloudloom.dev/kind": "function",
      "cloudloom.dev/name": "classify",
      "cloudloom.dev/objective": "routes.POST /v1/classify.objectives.0",
      "cloudloom.dev/severity": "page",
    });
  });

  it("judges a p99 objective on each minute's slowest call, in milliseconds, on the model's own FC function", () => {
    const rule = rules["support-desk-route-post-v1-models-intent-p99-ticket-intent-v1-edge-berlin"];
    assert.deepEqual(
      [rule.metric, JSON.parse(rule.metricDimensions), rule.escalationsWarn],
      [
        "FunctionMaxDuration",
        [{ region: "eu-central-1", functionName: "support-desk-intent-v1-edge-berlin" }],
        { statistics: "Maximum", comparisonOperator: ">", threshold: "250", times: 10 },
      ],
    );
    // The rule watches the function that serves the model.
    assert.ok(
      plan.resources.some(
        (r) => r.type === "alicloud:fc/v3Function:V3Function" && (r.inputs as any).functionName === "support-desk-intent-v1-edge-berlin",
      ),
    );
  });

  it("notifies one contact group of the app, holding an alarm contact per cloudloom:alertEmails address", () => {
    const groups = byName(plan.resources, "alicloud:cms/alarmContactGroup:AlarmContactGroup");
    assert.deepEqual(Object.keys(groups), ["support-desk-alerts"]);
    assert.deepEqual(groups["support-desk-alerts"].contacts, ["support-desk-alerts-0"]);
    const contacts = byName(plan.resources, "alicloud:cms/alarmContact:AlarmContact");
    assert.deepEqual(contacts["support-desk-alerts-0"], {
      alarmContactName: "support-desk-alerts-0",
      describe: "support-desk alerts: oncall@example.com",
      channelsMail: "oncall@example.com",
    });
    for (const rule of Object.values(rules)) assert.deepEqual(rule.contactGroups, ["support-desk-alerts"]);
  });

  it("lists the objectives CloudMonitor cannot see, with the reason", () => {
    const component = plan.resources.find((r) => r.type === "cloudloom:alicloud:Alerts")!;
    assert.deepEqual(
      (component.inputs as any).unobserved.map((u: any) => [u.objective, u.reason]),
      [
        ["functions.classify.objectives.0", "Function Compute reports no cold starts to CloudMonitor"],
        [
          "models.intent@1.objectives.0",
          "the batch queue lives in the cloudloom runtime; its numbers are Prometheus metrics, which CloudMonitor does not collect",
        ],
        [
          "models.intent@1.objectives.1",
          "the batch queue lives in the cloudloom runtime; its numbers are Prometheus metrics, which CloudMonitor does not collect",
        ],
        ["models.intent@1.objectives.2", "Function Compute reports no cold starts to CloudMonitor"],
      ],
    );
  });
});
