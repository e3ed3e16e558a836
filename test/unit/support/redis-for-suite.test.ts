import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs redisForSuite in a child whose PATH has node but no redis-server; prints what it did. */
function withoutRedis(ci: string | undefined): { status: number | null; stdout: string; stderr: string } {
  const script = `require("tsx/cjs/api").register();
    const { redisForSuite } = require(${JSON.stringify(require.resolve("../../support/redis"))});
    redisForSuite({ skip: () => { console.log("skipped"); throw new Error("pending"); } })
      .then(() => console.log("started"), (error) => console.log(error.message));`;
  // node sits beside redis-server in /usr/bin on these machines: the PATH holds a link to node alone.
  const bin = mkdtempSync(join(tmpdir(), "cloudloom-no-redis-"));
  symlinkSync(process.execPath, join(bin, "node"));
  const env: NodeJS.ProcessEnv = { PATH: bin, HOME: process.env.HOME };
  if (ci !== undefined) env.CI = ci;
  return spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env, timeout: 60_000 });
}

describe("redisForSuite without redis-server", () => {
  it("fails the suite under CI=true, naming what to install, rather than skipping it", () => {
    const child = withoutRedis("true");
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /redis-server is not installed, and CI=true makes that a failure/);
    assert.doesNotMatch(child.stdout, /skipped/);
  });

  it("skips the suite on a developer's machine", () => {
    const child = withoutRedis(undefined);
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /skipped/);
  });
});
