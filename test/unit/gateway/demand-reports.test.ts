import assert from "node:assert/strict";
import { DemandReports, parseReport, reportableKey } from "../../../gateway/demand-reports";
import { DEMAND_REPORT, ServingError } from "../../../runtime/contract";

const models = new Map([[reportableKey("intent@1", "central"), { maxPending: 5 }]]);
const count = (pending: number, inFlight = 0) => [{ kind: "model" as const, entry: "intent@1", region: "central", pending, inFlight }];
const invalid = (error: unknown) => error instanceof ServingError && error.code === "INVALID_INPUT" && error.status === 400;

describe("demand reports (in memory, on a clock the test moves)", () => {
  let now = 1_000_000;
  const clock = () => now;

  it("parses a report into counts of the model versions it names", () => {
    assert.deepEqual(parseReport({ source: "pod-a", calls: [{ model: "intent@1", region: "central", pending: 2, inFlight: 3 }] }, models), {
      source: "pod-a",
      counts: count(2, 3),
    });
    assert.throws(
      () => parseReport({ source: "pod-a", calls: [{ model: "intent@1", region: "central", pending: 6, inFlight: 0 }] }, models),
      invalid,
    );
    assert.throws(() => parseReport({ source: "", calls: [] }, models), invalid);
    assert.throws(() => parseReport(null, models), invalid);
  });

  it("replaces a source's counts, and forgets them once they expire unrestated", async () => {
    const reports = new DemandReports(undefined, "app", clock);
    await reports.accept("pod-a", count(3));
    await reports.accept("pod-a", count(1));
    await reports.accept("pod-b", count(2));
    assert.deepEqual(
      (await reports.counts()).map((c) => c.pending),
      [1, 2],
    );
    now += DEMAND_REPORT.ttlMs - 1;
    await reports.accept("pod-b", count(2));
    now += 1;
    assert.deepEqual(
      (await reports.counts()).map((c) => c.pending),
      [2],
      "pod-a expired; pod-b was restated",
    );
    now += DEMAND_REPORT.ttlMs;
    assert.deepEqual(await reports.counts(), []);
  });

  it("refuses a new source beyond maxSources with 503 and Retry-After, and takes it once others expire", async () => {
    const reports = new DemandReports(undefined, "app", clock);
    for (let i = 0; i < DEMAND_REPORT.maxSources; i++) await reports.accept(`pod-${i}`, count(0, 1));
    await assert.rejects(
      reports.accept("one-more", count(1)),
      (e: unknown) => e instanceof ServingError && e.code === "STORE_UNAVAILABLE" && e.headers["retry-after"] === "5",
    );
    await reports.accept("pod-0", count(1));
    assert.equal((await reports.counts()).length, DEMAND_REPORT.maxSources);
    now += DEMAND_REPORT.ttlMs;
    await reports.accept("one-more", count(1));
    assert.equal((await reports.counts()).length, 1);
  });
});
