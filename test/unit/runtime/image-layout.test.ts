/**
 * The runtime image's layout (IMAGE_LAYOUT) is what the Dockerfile builds,
 * and in it a handler's imports resolve: the layout is built in a temporary
 * directory (links to the repository's files where the Dockerfile copies
 * them) and a handler is loaded as the image's ENTRYPOINT loads it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IMAGE_LAYOUT, RUNTIME_ENTRYPOINT } from "../../../runtime/contract";

const repo = join(__dirname, "..", "..", "..");

/** The Dockerfile's instructions, continuation lines joined. */
function dockerfile(): Array<{ op: string; args: string }> {
  return readFileSync(join(repo, "Dockerfile"), "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** Where `path` (an absolute path in the image) is in a layout built under `root`. */
const at = (root: string, path: string) => join(root, path);

/** Builds IMAGE_LAYOUT under `root` as the Dockerfile does, with links instead of copies. */
function buildLayout(root: string, app: string): void {
  const home = at(root, IMAGE_LAYOUT.home);
  mkdirSync(home, { recursive: true });
  for (const entry of [...IMAGE_LAYOUT.files, ...IMAGE_LAYOUT.dirs]) symlinkSync(join(repo, entry), join(home, entry));
  // `npm ci` installs the dependencies into node_modules; the link to the SDK goes next to them.
  const modules = at(root, IMAGE_LAYOUT.nodePath);
  mkdirSync(modules, { recursive: true });
  for (const name of readdirSync(join(repo, "node_modules"))) {
    if (name !== "cloudloom") symlinkSync(join(repo, "node_modules", name), join(modules, name));
  }
  symlinkSync(at(root, IMAGE_LAYOUT.packageLink.target), at(root, IMAGE_LAYOUT.packageLink.path));
  cpSync(app, at(root, IMAGE_LAYOUT.app), { recursive: true });
}

/** Loads `modules` (paths in the image) as the ENTRYPOINT's node does: tsx registered, from WORKDIR, with the image's NODE_PATH. */
function loadInImage(root: string, modules: string[]) {
  const script = `require("tsx/cjs/api").register();
for (const file of ${JSON.stringify(modules.map((m) => at(root, m)))}) console.log(JSON.stringify(Object.keys(require(file)).sort()));`;
  return spawnSync(process.execPath, ["-e", script], {
    cwd: at(root, IMAGE_LAYOUT.home),
    env: { PATH: process.env.PATH, NODE_PATH: at(root, IMAGE_LAYOUT.nodePath) },
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("runtime image layout", () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), "cloudloom-image-"))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("is what the Dockerfile builds: WORKDIR, NODE_PATH, every COPY, the link to the SDK and the ENTRYPOINT", () => {
    const steps = dockerfile();
    assert.deepEqual(
      steps.filter((s) => s.op === "WORKDIR").map((s) => s.args),
      [IMAGE_LAYOUT.home],
    );
    const env = steps
      .filter((s) => s.op === "ENV")
      .map((s) => s.args)
      .join(" ");
    assert.match(env, new RegExp(`(^|\\s)NODE_PATH=${IMAGE_LAYOUT.nodePath}(\\s|$)`));
    const copied = steps
      .filter((s) => s.op === "COPY")
      .flatMap((s) => {
        const parts = s.args.split(/\s+/).filter((p) => !p.startsWith("--"));
        const destination = parts.pop()!;
        assert.ok(destination === "./" || destination === `./${parts[0]}`, `COPY ${s.args} copies into WORKDIR as it is in the repository`);
        return parts;
      });
    assert.deepEqual([...copied].sort(), [...IMAGE_LAYOUT.files, ...IMAGE_LAYOUT.dirs].sort());
    const run = steps
      .filter((s) => s.op === "RUN")
      .map((s) => s.args)
      .join("\n");
    assert.match(run, new RegExp(`ln -s ${IMAGE_LAYOUT.packageLink.target} ${IMAGE_LAYOUT.packageLink.path}(\\s|$)`));
    assert.match(run, new RegExp(`mkdir -p ${IMAGE_LAYOUT.app}(\\s|$)`));
    const entrypoint = steps.find((s) => s.op === "ENTRYPOINT");
    assert.deepEqual(JSON.parse(entrypoint!.args), [...RUNTIME_ENTRYPOINT]);
    assert.ok(RUNTIME_ENTRYPOINT[1].startsWith(`${IMAGE_LAYOUT.home}/`));
  });

  it("installs onnxruntime-node's CUDA binaries at build time and fails the build without them", () => {
    const steps = dockerfile();
    const env = steps
      .filter((s) => s.op === "ENV")
      .map((s) => s.args)
      .join(" ");
    // ONNXRUNTIME_NODE_INSTALL (or .npmrc's onnxruntime-node-install) wins over the CUDA flag in its install script.
    assert.doesNotMatch(env, /ONNXRUNTIME_NODE_INSTALL=/);
    assert.ok(!steps.some((s) => s.op === "COPY" && /\.npmrc/.test(s.args)), "the repository's .npmrc skips the download");
    const install = steps.find((s) => s.op === "RUN" && /npm ci/.test(s.args));
    assert.match(install!.args, /ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm ci --omit=dev/);
    assert.match(install!.args, /test -f node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_cuda\.so/);
    // The variable the script reads, spelled as the installed onnxruntime-node spells it.
    const script = readFileSync(join(repo, "node_modules/onnxruntime-node/script/install-utils.js"), "utf8");
    assert.match(script, /process\.env\.ONNXRUNTIME_NODE_INSTALL_CUDA/);
    assert.match(script, /case 'v12':\s*return 12;/);
  });

  it("resolves a handler's `cloudloom` imports under /app as the ENTRYPOINT runs it", () => {
    const app = mkdtempSync(join(tmpdir(), "cloudloom-app-"));
    mkdirSync(join(app, "functions"));
    writeFileSync(
      join(app, "functions", "hello.ts"),
      `import { respond, type Handler } from "cloudloom";
import { isFunctionResponse } from "cloudloom/handler";
export const handler: Handler = async () => respond(200, { ok: isFunctionResponse(respond(200, 1)) });\n`,
    );
    buildLayout(root, app);
    rmSync(app, { recursive: true, force: true });
    const run = loadInImage(root, [`${IMAGE_LAYOUT.app}/functions/hello.ts`]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim()), ["handler"]);
  });

  it("resolves every import of the example's handlers in the image", function () {
    const example = join(repo, "examples", "support-desk");
    const handlers = readdirSync(join(example, "functions")).filter((f) => f.endsWith(".ts"));
    // A handler that reaches outside the app by a relative path would not find it under /app in the image.
    const outside = handlers.filter((f) => /from "\.\.\/\.\.\/\.\.\//.test(readFileSync(join(example, "functions", f), "utf8")));
    assert.deepEqual(outside, [], "handlers import cloudloom by its name, not by a path out of the app");
    buildLayout(root, example);
    const run = loadInImage(
      root,
      handlers.map((f) => `${IMAGE_LAYOUT.app}/functions/${f}`),
    );
    assert.equal(run.status, 0, run.stderr);
  });
});
