import assert from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import { MetricChildren } from "../../../gateway/metric-children";

describe("metric children", () => {
  it("binds each combination of label values once, and counts through the bound child", async () => {
    const registry = new Registry();
    const counter = new Counter({ name: "t_total", help: "t", labelNames: ["route", "status"] as const, registers: [registry] });
    const bound: string[][] = [];
    const children = new MetricChildren((route, status) => (bound.push([route, status]), counter.labels(route, status)));
    for (let i = 0; i < 3; i++) children.of("POST /x", 200).inc();
    children.of("POST /x", 503).inc();
    children.of("POST /y", 200).inc();
    assert.deepEqual(bound, [
      ["POST /x", "200"],
      ["POST /x", "503"],
      ["POST /y", "200"],
    ]);
    assert.strictEqual(children.of("POST /x", 200), children.of("POST /x", 200));
    const values = (await counter.get()).values.map((v) => [v.labels.route, v.labels.status, v.value]);
    assert.deepEqual(values, [
      ["POST /x", "200", 3],
      ["POST /x", "503", 1],
      ["POST /y", "200", 1],
    ]);
  });
});
