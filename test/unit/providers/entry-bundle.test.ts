import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleEntries, bundleEntriesInWorker, type EntryBundleJob } from "../../../providers/shared/entry-bundle";

/** A job of in-memory entries that import `modules` (file name → source) from a fresh directory. */
function job(entries: Record<string, string>, modules: Record<string, string> = {}): EntryBundleJob {
  const root = mkdtempSync(join(tmpdir(), "cloudloom-entry-bundle-"));
  for (const [file, source] of Object.entries(modules)) writeFileSync(join(root, file), source);
  return {
    options: {
      bundle: true,
      platform: "node",
      format: "cjs",
      outdir: "/out",
      entryPoints: Object.fromEntries(Object.keys(entries).map((name) => [name, `test-entry:${name}`])),
      logLevel: "silent",
    },
    namespace: "test-entry",
    entries: Object.fromEntries(Object.entries(entries).map(([name, contents]) => [name, { contents, resolveDir: root }])),
  };
}

describe("bundling in-memory entries in a worker thread", () => {
  it("gives what bundling in this thread gives, byte for byte", async () => {
    const work = job(
      {
        first: `import { greet } from "./greet"; export const handler = () => greet("first");`,
        second: `export const handler = (x: number): number => x * 2;`,
      },
      { "greet.ts": `export const greet = (name: string) => "hello " + name;` },
    );
    const inWorker = await bundleEntriesInWorker(work);
    assert.deepEqual(inWorker, await bundleEntries(work));
    assert.deepEqual(Object.keys(inWorker).sort(), ["/out/first.js", "/out/second.js"]);
    assert.match(inWorker["/out/first.js"], /"hello " \+ name/);
  });

  it("rejects with esbuild's message when an entry imports a module that does not exist, and the process carries on", async () => {
    await assert.rejects(
      bundleEntriesInWorker(job({ broken: `import { gone } from "./missing"; export const handler = gone;` })),
      (e: Error) => /Could not resolve "\.\/missing"/.test(e.message),
    );
    const fine = await bundleEntriesInWorker(job({ fine: `export const handler = 1;` }));
    assert.ok(fine["/out/fine.js"]);
  });

  it("rejects an entry that does not parse, naming where", async () => {
    await assert.rejects(bundleEntriesInWorker(job({ garbled: `export const handler = (;` })), (e: Error) =>
      /garbled:1:\d+: ERROR/.test(e.message),
    );
  });
});
