import assert from "node:assert/strict";
import { planApp } from "../../../cli/plan";
import { derivedFloors } from "../../../cli/plan-format";
import { deriveFloors } from "../../../sdk/prewarm/floors";
import { parseHistory } from "../../../sdk/prewarm/history";
import app from "../../fixtures/prewarm-app/app";

/** A Prometheus query_range export of a cumulative counter, one sample a minute from `startSeconds`. */
function prometheusExport(startSeconds: number, increments: number[]): string {
  let total = 100;
  const values = increments.map((inc, i) => [startSeconds + i * 60, String((total += inc))]);
  return JSON.stringify({ status: "success", data: { resultType: "matrix", result: [{ metric: { route: "POST /report" }, values }] } });
}

describe("plan-time floors from pre-warm history", () => {
  it("turns the busy hours of a trace CSV into a floor that starts the lead time early, and says why", () => {
    const spec = app.toSpec({ target: "kubernetes" });
    const floors = spec.scalingPolicies.predictive.schedules;
    assert.equal(floors.length, 1);
    assert.deepEqual(
      { cron: floors[0].cron, timezone: floors[0].timezone, minInstances: floors[0].minInstances, duration: floors[0].duration },
      { cron: "55 7 * * *", timezone: "UTC", minInstances: 1, duration: "125 minutes" },
    );
    assert.match(
      floors[0].reason!,
      /calls in 100 % of the minutes between 08:00 and 10:00 UTC \(peak 2\/min\); warm from 07:55, 5 min ahead/,
    );
  });

  it("reads a Prometheus range export of the gateway's request counter, counter resets included", () => {
    const eightAm = Date.UTC(2026, 10, 20, 8, 0) / 1000;
    const increments = Array.from({ length: 120 }, (_, i) => (i < 60 ? 90 : 0));
    const history = parseHistory(prometheusExport(eightAm, increments));
    assert.equal(history.startMinuteOfDay, 8 * 60);
    assert.deepEqual(history.counts.slice(0, 3), [90, 90, 90]);
    const floors = deriveFloors(history, { leadMinutes: 10, maxInstances: 8 });
    assert.deepEqual(
      floors.map((f) => [f.cron, f.minInstances, f.duration]),
      [["50 7 * * *", 2, "70 minutes"]],
      "90 calls a minute need two instances",
    );
    const reset = JSON.parse(prometheusExport(eightAm, [5, 5]));
    reset.data.result[0].values.push([eightAm + 120, "3"]);
    assert.deepEqual(parseHistory(JSON.stringify(reset)).counts, [5, 3], "after a reset, the new value is the increase");
  });

  it("names the problem and the line of a history file it cannot use", () => {
    assert.throws(() => parseHistory('{"status":"error"}'), /query_range response/);
    assert.throws(() => parseHistory("HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1\n"), /line 2: has 5 columns/);
  });

  it("shows the derived floors and their reasons in the offline plan, and maps them to KEDA cron", async () => {
    const plan = await planApp("test/fixtures/prewarm-app", "kubernetes", { artifactBaseUrl: "https://m.example" });
    assert.deepEqual(derivedFloors(plan), [
      '  predictive: "55 7 * * *" UTC, 1 instance(s) for 125 minutes: calls in 100 % of the minutes between 08:00 and 10:00 UTC (peak 2/min); warm from 07:55, 5 min ahead',
    ]);
    const scaled = plan.resources.find((r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject")!.inputs as any;
    const cron = scaled.spec.triggers.find((t: any) => t.type === "cron");
    assert.deepEqual([cron.metadata.start, cron.metadata.end, cron.metadata.desiredReplicas], ["55 7 * * *", "0 10 * * *", "1"]);
  });
});
