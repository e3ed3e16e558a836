/**
 * cloudloom as a package (issue 16), end to end, the way a user meets it:
 * `npm pack` (prepack builds dist/), `cloudloom init` in a folder outside the
 * repository, `npm install` of the tarball there (offline from npm's cache
 * when it holds everything, else from the registry), then spec, serve (a real
 * HTTP request), plan on every target, the policy gate and a type-check of the
 * scaffold against the package's declarations. Never skipped: CI runs it too.
 *
 * The pack runs in a copy of the working tree (node_modules linked), so the
 * build's dist/ never appears in the repository while other suites run.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const REPO = resolve(__dirname, "../..");

/** The environment for child commands: none of an outer `npm test`'s npm_* settings. */
function childEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, NODE_OPTIONS: "", ONNXRUNTIME_NODE_INSTALL: "skip", LOG_LEVEL: "warn", CI: process.env.CI ?? "" };
}

interface Run {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Runs a command to its end. */
function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, out, err, ms: Date.now() - started });
    });
  });
}

function ok(result: Run, what: string): Run {
  assert.equal(
    result.code,
    0,
    `${what} exited ${result.code}\n--- stdout\n${result.out.slice(-3000)}\n--- stderr\n${result.err.slice(-3000)}`,
  );
  return result;
}

/** Files of the working tree a commit would hold (tracked and untracked, not ignored). */
async function workingTreeFiles(): Promise<string[]> {
  const listed = ok(await run("git", ["ls-files", "-co", "--exclude-standard", "-z"], REPO), "git ls-files");
  return listed.out.split("\0").filter((file) => file && existsSync(join(REPO, file)));
}

/** The files under dir, sorted, relative to it. */
function list(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe("cloudloom as a package: npm pack, cloudloom init, npm install, serve, plan, policy", function () {
  this.timeout(15 * 60_000);
  const timings: Record<string, number> = {};
  let work: string;
  let tarball: string;
  let packed: string[];
  let project: string;
  let scaffold: string[];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "cloudloom-package-"));
    assert.ok(relative(REPO, work).startsWith(".."), `${work} must be outside the repository`);

    // 1. npm pack, from a copy of the working tree.
    const source = join(work, "source");
    for (const file of await workingTreeFiles()) {
      mkdirSync(dirname(join(source, file)), { recursive: true });
      cpSync(join(REPO, file), join(source, file));
    }
    symlinkSync(join(REPO, "node_modules"), join(source, "node_modules"), "dir");
    const out = join(work, "tarball");
    mkdirSync(out);
    const pack = ok(await run("npm", ["pack", "--json", "--pack-destination", out], source, 600_000), "npm pack");
    timings.pack = pack.ms;
    const [info] = JSON.parse(pack.out.slice(pack.out.indexOf("["))) as Array<{
      filename: string;
      size: number;
      files: Array<{ path: string }>;
    }>;
    tarball = join(out, info.filename);
    packed = info.files.map((file) => file.path);
    timings.tarballBytes = info.size;

    // 2. cloudloom init, outside the repository.
    project = join(work, "hello-app");
    ok(await run(process.execPath, [join(REPO, "cli/bin.js"), "init", project], work), "cloudloom init");
    scaffold = list(project);

    // 3. npm install of the tarball: offline from npm's cache, or from the registry for what the cache lacks.
    let install = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], project, 600_000);
    if (install.code !== 0 && /ENOTCACHED/.test(install.err))
      install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], project, 600_000);
    ok(install, "npm install <tarball>");
    assert.doesNotMatch(install.err, /EBADENGINE/, "a dependency's engines refuse this Node");
    timings.install = install.ms;
  });

  after(() => {
    console.log(`      timings (ms) and tarball size (bytes): ${JSON.stringify(timings)}`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("packs compiled JavaScript with declarations, the CLI and the templates; no sources, tests or node_modules", () => {
    for (const file of [
      "package.json",
      "cli/bin.js",
      "dist/package.json",
      "dist/sdk/index.js",
      "dist/sdk/index.d.ts",
      "dist/sdk/handler.js",
      "dist/sdk/handler.d.ts",
      "dist/stacks/pulumi.js",
      "dist/stacks/pulumi.d.ts",
      "dist/cli/main.js",
      "dist/cli/commands/init.js",
      "dist/runtime/serverless/index.js",
      "dist/providers/alicloud/offline-plan-key.pem",
      "templates/app/app.ts.tmpl",
      "templates/app/functions/hello.ts.tmpl",
    ])
      assert.ok(packed.includes(file), `the tarball lacks ${file}`);
    const strays = packed.filter(
      (file) =>
        /^(test|examples|bench|node_modules|\.ci)\//.test(file) ||
        /(^|\/)node_modules\//.test(file) ||
        /\.test\.(ts|js)$/.test(file) ||
        (file.endsWith(".ts") && !file.endsWith(".d.ts")),
    );
    assert.deepEqual(strays, [], "the tarball holds sources, tests or node_modules");
    // Every export the package declares (bar the bundler's source condition) is in the tarball.
    const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { exports: Record<string, unknown> };
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === "string" ? { default: target } : (target as Record<string, string>);
      for (const [condition, file] of Object.entries(targets)) {
        if (condition === "module" || file.includes("*")) continue;
        assert.ok(packed.includes(file.replace(/^\.\//, "")), `exports["${subpath}"].${condition} -> ${file} is not in the tarball`);
      }
    }
  });

  it("scaffolds an app outside the repository and installs the tarball there", () => {
    const files = ["app.ts", "functions/hello.ts", "index.ts", "package.json", "tsconfig.json", "Pulumi.yaml", "README.md"];
    for (const file of [...files, "Pulumi.dev-aws.yaml", "Pulumi.dev-alicloud.yaml", "Pulumi.dev-kubernetes.yaml"])
      assert.ok(existsSync(join(project, file)), `init did not write ${file}`);
    assert.match(readFileSync(join(project, "Pulumi.yaml"), "utf8"), /^name: hello-app$[\s\S]*^config:\n {2}target:\n {4}type: string/m);
    const installed = join(project, "node_modules", "cloudloom");
    assert.ok(existsSync(join(installed, "dist/sdk/index.js")));
    assert.ok(!existsSync(join(installed, "sdk")), "the installed package holds TypeScript sources");
    assert.ok(existsSync(join(project, "node_modules/.bin/cloudloom")));
  });

  it("npx cloudloom spec . prints the app's Spec v1", async () => {
    const spec = ok(await run("npx", ["cloudloom", "spec", "."], project), "cloudloom spec .");
    const parsed = JSON.parse(spec.out) as { app: string; functions: Record<string, unknown> };
    assert.equal(parsed.app, "hello-app");
    assert.deepEqual(Object.keys(parsed.functions), ["hello"]);
  });

  it("type-checks the scaffold against the package's declarations (cloudloom, cloudloom/handler, cloudloom/pulumi)", async () => {
    ok(await run("npx", ["tsc", "-p", "."], project), "tsc -p . in the scaffold");
  });

  it("npx cloudloom serve . --port 0 answers a POST on the scaffolded function", async () => {
    let child: ChildProcess | undefined;
    try {
      child = spawn("npx", ["cloudloom", "serve", ".", "--port", "0"], {
        cwd: project,
        env: childEnv(),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let out = "";
      let err = "";
      child.stderr!.on("data", (chunk: Buffer) => (err += chunk));
      const base = await new Promise<string>((resolveBase, reject) => {
        child!.stdout!.on("data", (chunk: Buffer) => {
          out += chunk;
          const match = /serving "hello-app" on (http:\/\/[^\s]+)/.exec(out);
          if (match) resolveBase(match[1]);
        });
        child!.on("exit", (code) => reject(new Error(`serve exited ${code} before listening\n${out}\n${err}`)));
      });
      const response = await fetch(`${base}/v1/hello`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Ada" }),
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { greeting: "Hello, Ada!", region: "central" });
    } finally {
      if (child?.pid && child.exitCode === null) {
        const exited = new Promise((done) => child!.once("exit", done));
        process.kill(-child.pid, "SIGTERM");
        await exited;
      }
    }
  });

  for (const target of ["kubernetes", "aws", "alicloud"])
    it(`npx cloudloom plan . --target ${target} plans it offline`, async () => {
      const plan = ok(
        await run("npx", ["cloudloom", "plan", ".", "--target", target, "--json"], project),
        `cloudloom plan --target ${target}`,
      );
      const parsed = JSON.parse(plan.out) as { app: string; resources: Array<{ type: string }> };
      assert.equal(parsed.app, "hello-app");
      assert.ok(parsed.resources.some((r) => r.type === `cloudloom:${target}:App`));
    });

  it("runs the Pulumi program from the user's own project (any name, typed config in its namespace) under mocks", async () => {
    // The scaffold's index.ts, as `pulumi up` runs it: cwd is the project, config is `hello-app:*`.
    const script = `
      require("tsx/cjs/api").register();
      const pulumi = require("@pulumi/pulumi");
      (async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name + "-id", state: a.inputs }), call: (a) => a.inputs }, "hello-app", "dev-kubernetes", false);
        pulumi.runtime.setAllConfig({ "hello-app:target": "kubernetes", "cloudloom:artifactBaseUrl": "https://models.example.com" });
        require(require("node:path").join(process.cwd(), "index.ts")).endpoints.apply((e) => console.log(JSON.stringify(e)));
      })();`;
    const result = ok(await run(process.execPath, ["-e", script], project), "the Pulumi program under mocks");
    assert.deepEqual(JSON.parse(result.out.trim().split("\n").pop()!), {
      functions: { hello: { central: "http://hello-app-fn-hello-central.hello-app.svc.cluster.local" } },
      models: {},
    });
  });

  it("npx cloudloom policy . --target all passes", async () => {
    const policy = ok(await run("npx", ["cloudloom", "policy", ".", "--target", "all"], project), "cloudloom policy --target all");
    assert.match(policy.out, /no policy violations/);
  });

  it("the installed package's own init finds its templates", async () => {
    const again = join(work, "again");
    ok(await run("npx", ["cloudloom", "init", again, "--name", "again"], project), "npx cloudloom init (installed)");
    assert.deepEqual(list(again), scaffold);
  });
});
