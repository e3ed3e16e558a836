import assert from "node:assert/strict";
import { isDuration, isSize, toMegabytes, toMilliseconds, toSeconds } from "../../../sdk";

describe("unit strings", () => {
  it("converts sizes to megabytes, counting 1 GB as 1024 MB", () => {
    assert.equal(toMegabytes("512 MB"), 512);
    assert.equal(toMegabytes("2 GB"), 2048);
    assert.equal(toMegabytes("1024 KB"), 1);
  });

  it("converts durations in every unit", () => {
    assert.equal(toMilliseconds("5 ms"), 5);
    assert.equal(toSeconds("30 seconds"), 30);
    assert.equal(toSeconds("1 minute"), 60);
    assert.equal(toSeconds("15 minutes"), 900);
    assert.equal(toSeconds("2 hours"), 7200);
    assert.equal(toSeconds("1 day"), 86400);
    assert.equal(toSeconds("0.5 seconds"), 0.5);
  });

  it("rejects malformed strings with the accepted form in the message", () => {
    for (const bad of ["512MB", "512 mb", "-1 MB", "MB", "", "1e3 MB", " 5 MB"]) assert.equal(isSize(bad), false, bad);
    for (const bad of ["30s", "30 secs", "thirty seconds", "5  ms"]) assert.equal(isDuration(bad), false, bad);
    assert.throws(() => toMegabytes("lots" as never), /write it as "<number> KB\|MB\|GB"/);
    assert.throws(() => toMilliseconds("soon" as never), /e\.g\. "30 seconds"/);
  });
});
