import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { cliLogger } from "../../../cli/compose-gateway";
import { runCli } from "../../support/cli";

const ROOT = resolve(__dirname, "../../..");

describe("cloudloom --version", () => {
  it("prints the package's version and exits 0", async () => {
    const { version } = require("../../../package.json") as { version: string };
    for (const flag of ["--version", "-v"]) assert.deepEqual(await runCli(flag), { code: 0, out: `${version}\n`, err: "" });
  });

  it("does so from the installed bin too (a child process)", function () {
    this.timeout(60_000);
    const child = spawnSync(process.execPath, [resolve(ROOT, "cli/bin.js"), "--version"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /^\d+\.\d+\.\d+\S*\n$/);
  });

  it("is listed in --help", async () => {
    assert.match((await runCli("--help")).out, /cloudloom --version/);
  });
});

describe("the CLI's logs", () => {
  function capture(env: NodeJS.ProcessEnv, isTTY: boolean): string {
    let text = "";
    const sink = new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const logger = cliLogger(env, { isTTY }, sink);
    logger.info({ requestId: "r-1" }, "hello");
    logger.flush?.();
    return text;
  }

  it("are JSON lines when stdout is not a terminal (containers, log shippers)", () => {
    const line = JSON.parse(capture({}, false).trim());
    assert.equal(line.msg, "hello");
    assert.equal(line.requestId, "r-1");
  });

  it("are readable lines when stdout is a terminal", () => {
    const text = capture({}, true);
    assert.throws(() => JSON.parse(text.trim()), "not JSON");
    assert.match(text, /INFO/);
    assert.match(text, /hello/);
    assert.match(text, /requestId: "r-1"/);
  });

  it("follow LOG_FORMAT when it is set", () => {
    assert.doesNotThrow(() => JSON.parse(capture({ LOG_FORMAT: "json" }, true).trim()));
    assert.match(capture({ LOG_FORMAT: "pretty" }, false), /INFO.*hello/);
  });
});
