import assert from "node:assert/strict";
import { isDuration, isPercent, isSize, toFraction, toMegabytes, toMilliseconds, toSeconds } from "../../../sdk";

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

  it("converts percents to fractions, and rejects any other spelling", () => {
    assert.equal(toFraction("1%"), 0.01);
    assert.equal(toFraction("0.5%"), 0.005);
    assert.equal(toFraction("100%"), 1);
    for (const bad of ["1", "1 %", "1 percent", "-1%", "%", "1e2%", " 1%", 1]) assert.equal(isPercent(bad), false, String(bad));
    assert.throws(() => toFraction("half" as never), /write it as "<number>%"/);
  });
});
