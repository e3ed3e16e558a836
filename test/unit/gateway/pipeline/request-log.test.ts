import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import pino from "pino";
import { accessLogger } from "../../../../gateway/pipeline/access-log";
import { requestId } from "../../../../gateway/pipeline/request-id";

describe("request id", () => {
  it("keeps a well-formed caller id and replaces anything else", () => {
    const withId = (id?: string) => ({ headers: id === undefined ? {} : { "x-request-id": id } }) as unknown as IncomingMessage;
    assert.equal(requestId(withId("trace-1234abcd")), "trace-1234abcd");
    for (const bad of [undefined, "short", "has spaces in it", "x".repeat(200), "<script>alert(1)</script>"]) {
      assert.match(requestId(withId(bad)), /^[0-9a-f-]{36}$/);
    }
  });
});

describe("access log", () => {
  function capture(sampleRate: number, random: () => number) {
    const lines: any[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { log: accessLogger(logger, sampleRate, random), lines };
  }
  const record = (status: number) => ({ id: "r1", method: "POST", route: "POST /x", status, ms: 1.5, tenant: "t-abc" });

  it("logs every error and only the sampled share of successes", () => {
    const { log, lines } = capture(0.1, () => 0.5);
    log(record(200));
    log(record(503));
    assert.deepEqual(
      lines.map((l) => l.status),
      [503],
    );
    const sampled = capture(0.1, () => 0.05);
    sampled.log(record(200));
    assert.equal(sampled.lines.length, 1);
  });

  it("records the tenant id, never a key", () => {
    const { log, lines } = capture(1, () => 0);
    log(record(200));
    assert.equal(lines[0].tenant, "t-abc");
    assert.ok(!JSON.stringify(lines[0]).toLowerCase().includes("authorization"));
  });
});
