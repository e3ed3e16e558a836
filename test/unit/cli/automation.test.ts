import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { automationPlan, stackOutputs } from "../../../cli/commands/automation";
import { findOnPath, missingPulumiMessage } from "../../../cli/commands/up";
import { main } from "../../../cli/main";
import { planApp, stackConfig } from "../../../cli/plan";
import { planUnderMocks } from "../../../providers/plan";

const ROOT = resolve(__dirname, "../../..");
const EXAMPLE = join(ROOT, "examples/support-desk");

/** `value` with every Pulumi secret (the runtime's signature key) replaced by "[secret]". */
function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(masked);
  if (!value || typeof value !== "object") return value;
  if ((value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return "[secret]";
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, masked(inner)]));
}

function captured() {
  const io = { stdout: "", stderr: "", out: (text: string) => void (io.stdout += text), err: (text: string) => void (io.stderr += text) };
  return io;
}

/** Runs `main(argv)` with `env` as process.env (PATH and passphrase), restoring it afterwards. */
async function runWith(env: Record<string, string | undefined>, argv: string[]) {
  const saved = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const io = captured();
    const code = await main(argv, io);
    return { code, ...io };
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

describe("cloudloom up|preview|destroy (Pulumi Automation API)", function () {
  this.timeout(120_000);
  let empty: string;
  before(() => (empty = mkdtempSync(join(tmpdir(), "cloudloom-nopulumi-"))));
  after(() => rmSync(empty, { recursive: true, force: true }));

  describe("without the Pulumi CLI on PATH", () => {
    const unset = { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: undefined, PULUMI_BACKEND_URL: undefined };

    for (const argv of [
      ["up", "examples/support-desk", "--target", "kubernetes", "--stack", "dev"],
      ["preview", "examples/support-desk", "--target", "kubernetes", "--stack", "dev"],
      ["destroy", "examples/support-desk", "--target", "kubernetes", "--stack", "dev", "--yes"],
    ])
      it(`${argv[0]} says so in one line with the install hint and the passphrase, and exits 2`, async () => {
        const { code, stdout, stderr } = await runWith({ ...unset, PATH: empty }, argv);
        assert.equal(code, 2);
        assert.equal(stdout, "");
        assert.equal(stderr.split("\n").length, 2, stderr); // one line and its newline
        assert.equal(stderr, `${missingPulumiMessage(argv[0] as "up", undefined, {})}\n`);
        assert.match(stderr, new RegExp(`^cloudloom ${argv[0]} needs the Pulumi CLI.*https://www\\.pulumi\\.com/docs/install/`));
        assert.match(stderr, /PULUMI_CONFIG_PASSPHRASE/);
      });

    it("leaves the passphrase out once it is set, or for a Pulumi Cloud backend", async () => {
      const withPassphrase = await runWith({ ...unset, PATH: empty, PULUMI_CONFIG_PASSPHRASE: "" }, [
        "up",
        "examples/support-desk",
        "--target",
        "kubernetes",
        "--stack",
        "dev",
      ]);
      assert.equal(withPassphrase.code, 2);
      assert.doesNotMatch(withPassphrase.stderr, /PASSPHRASE/);
      assert.doesNotMatch(missingPulumiMessage("up", "https://api.pulumi.com", {}), /PASSPHRASE/);
      assert.match(missingPulumiMessage("up", "s3://bucket", {}), /PASSPHRASE/);
    });

    it("checks the flags first: --stack is required and destroy needs --yes (exit 2)", async () => {
      const noStack = await runWith({ PATH: empty }, ["up", "examples/support-desk", "--target", "kubernetes"]);
      assert.deepEqual([noStack.code, noStack.stderr], [2, "cloudloom up needs --stack S (the stack's name, e.g. dev)\n"]);
      const noYes = await runWith({ PATH: empty }, ["destroy", "examples/support-desk", "--target", "kubernetes", "--stack", "dev"]);
      assert.equal(noYes.code, 2);
      assert.match(noYes.stderr, /pass --yes to confirm/);
    });

    it("with a pulumi on PATH, asks for the passphrase, then checks the target, before loading the Automation API", async () => {
      const bin = mkdtempSync(join(tmpdir(), "cloudloom-bin-"));
      try {
        writeFileSync(join(bin, "pulumi"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        const argv = ["up", "examples/support-desk", "--target", "mainframe", "--stack", "dev"];
        const noPassphrase = await runWith({ ...unset, PATH: bin }, argv);
        assert.equal(noPassphrase.code, 2);
        assert.match(
          noPassphrase.stderr,
          /^cloudloom up keeps state .* set PULUMI_CONFIG_PASSPHRASE \(or PULUMI_CONFIG_PASSPHRASE_FILE\)\n$/,
        );
        const badTarget = await runWith({ ...unset, PATH: bin, PULUMI_CONFIG_PASSPHRASE: "p" }, argv);
        assert.equal(badTarget.code, 2);
        assert.match(badTarget.stderr, /^--target mainframe is not available; choose one of: /);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });

    it("finds pulumi only as an executable file on PATH", () => {
      const bin = mkdtempSync(join(tmpdir(), "cloudloom-bin-"));
      try {
        writeFileSync(join(bin, "pulumi"), "#!/bin/sh\n");
        chmodSync(join(bin, "pulumi"), 0o644);
        assert.equal(findOnPath("pulumi", { PATH: `${empty}:${bin}` }), undefined);
        chmodSync(join(bin, "pulumi"), 0o755);
        assert.equal(findOnPath("pulumi", { PATH: `${empty}:${bin}` }), join(bin, "pulumi"));
        assert.equal(findOnPath("pulumi", { PATH: "" }), undefined);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });
  });

  describe("automationPlan: what the Automation API is handed", () => {
    it("takes config from flags: namespaced keys, secrets marked, target and app set", () => {
      const plan = automationPlan(
        {
          app: "examples/support-desk",
          target: "kubernetes",
          stack: "ci",
          config: ["namespace=shop", "kubernetes:context=kind", "artifactBaseUrl=https://a.example/x=1"],
          secrets: ['secrets={"crm-token":"t0k3n"}'],
        },
        {},
      );
      assert.equal(plan.projectName, "cloudloom"); // the repository's Pulumi.yaml
      assert.equal(plan.stackName, "ci");
      assert.equal(plan.backendUrl, `file://${EXAMPLE}/.cloudloom/state`);
      assert.equal(plan.workDir, join(EXAMPLE, ".cloudloom/workspace"));
      assert.equal(plan.projectDir, ROOT);
      assert.equal(plan.stackFile, undefined); // no Pulumi.ci.yaml
      assert.deepEqual(plan.config, {
        "cloudloom:namespace": { value: "shop", secret: false },
        "kubernetes:context": { value: "kind", secret: false },
        "cloudloom:artifactBaseUrl": { value: "https://a.example/x=1", secret: false },
        "cloudloom:secrets": { value: '{"crm-token":"t0k3n"}', secret: true },
        "cloudloom:target": { value: "kubernetes", secret: false },
        "cloudloom:app": { value: "examples/support-desk", secret: false },
      });
      assert.deepEqual(plan.skipped, []);
    });

    it("keeps state where --backend, else PULUMI_BACKEND_URL, says", () => {
      const args = { app: "examples/support-desk", target: "kubernetes", stack: "ci" };
      assert.equal(automationPlan(args, { PULUMI_BACKEND_URL: "s3://state" }).backendUrl, "s3://state");
      assert.equal(automationPlan({ ...args, backend: "file://~" }, { PULUMI_BACKEND_URL: "s3://state" }).backendUrl, "file://~");
    });

    it("rejects a --config without =, and a missing app or stack file (UsageError)", () => {
      const args = { app: "examples/support-desk", target: "kubernetes", stack: "ci" };
      assert.throws(() => automationPlan({ ...args, config: ["namespace"] }, {}), { message: "--config namespace is not key=value" });
      assert.throws(() => automationPlan({ ...args, app: "examples/nope" }, {}), /examples\/nope does not exist/);
      assert.throws(
        () => automationPlan({ ...args, stackConfig: "Pulumi.nope.yaml" }, {}),
        /--stack-config Pulumi\.nope\.yaml does not exist/,
      );
    });

    describe("from a stack file of a user's project", () => {
      let dir: string;
      beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "cloudloom-up-"));
        mkdirSync(join(dir, "apps"));
        writeFileSync(join(dir, "Pulumi.yaml"), "name: hello-app\nruntime: nodejs\n");
        writeFileSync(join(dir, "apps", "app.ts"), "export {};\n");
        writeFileSync(
          join(dir, "Pulumi.dev.yaml"),
          [
            "config:",
            "  hello-app:artifactBaseUrl: https://models.example.com",
            "  cloudloom:namespace: hello",
            "  cloudloom:target: aws",
            "  other-project:ignored: x",
            "  hello-app:apiKeys:",
            "    secure: v1:abc",
          ].join("\n"),
        );
      });
      afterEach(() => rmSync(dir, { recursive: true, force: true }));

      it("reads Pulumi.<stack>.yaml of the project; flags and --target win; encrypted values are named, not carried", () => {
        const plan = automationPlan(
          { app: join(dir, "apps", "app.ts"), target: "kubernetes", stack: "dev", config: ["namespace=override"] },
          {},
        );
        assert.equal(plan.projectName, "hello-app");
        assert.equal(plan.stackFile, join(dir, "Pulumi.dev.yaml"));
        assert.equal(plan.backendUrl, `file://${join(dir, "apps", ".cloudloom", "state")}`);
        assert.equal(plan.projectDir, dir);
        assert.deepEqual(plan.config, {
          "cloudloom:artifactBaseUrl": { value: "https://models.example.com", secret: false },
          "cloudloom:namespace": { value: "override", secret: false },
          "cloudloom:target": { value: "kubernetes", secret: false },
          "cloudloom:app": { value: "apps/app.ts", secret: false },
        });
        assert.deepEqual(plan.skipped, ["apiKeys"]);
      });

      it("reads --stack-config FILE instead, and a --secret fills an encrypted value", () => {
        const file = join(dir, "other.yaml");
        writeFileSync(file, "config:\n  cloudloom:namespace: other\n  cloudloom:apiKeys:\n    secure: v1:xyz\n");
        const plan = automationPlan(
          { app: join(dir, "apps"), target: "kubernetes", stack: "dev", stackConfig: file, secrets: ['apiKeys=["k"]'] },
          {},
        );
        assert.equal(plan.stackFile, file);
        assert.deepEqual(plan.config, {
          "cloudloom:namespace": { value: "other", secret: false },
          "cloudloom:apiKeys": { value: '["k"]', secret: true },
          "cloudloom:target": { value: "kubernetes", secret: false },
          "cloudloom:app": { value: "apps", secret: false },
        });
        assert.deepEqual(plan.skipped, []);
      });

      it("names the project after the app's folder when there is no Pulumi.yaml", () => {
        rmSync(join(dir, "Pulumi.yaml"));
        const plan = automationPlan({ app: join(dir, "apps"), target: "kubernetes", stack: "dev" }, {});
        assert.equal(plan.projectName, "apps");
        assert.equal(plan.projectDir, join(dir, "apps"));
        assert.equal(plan.config["cloudloom:app"].value, ".");
        assert.equal(plan.stackFile, undefined);
      });
    });

    it("exports what the program returns: an object's fields, or a bare output as endpoints", () => {
      const endpoints = pulumi.output({ a: 1 });
      assert.deepEqual(stackOutputs(endpoints), { endpoints });
      assert.deepEqual(Object.keys(stackOutputs({ endpoints, gatewayUrl: pulumi.output("u") })), ["endpoints", "gatewayUrl"]);
    });

    it("hands over the real stack program: under mocks it creates what `cloudloom plan` plans for the example on kubernetes", async () => {
      const app = "examples/support-desk";
      const offline = await planApp(app, "kubernetes", stackConfig("kubernetes", undefined, app));
      // The stack file plan reads is Pulumi.dev-kubernetes.yaml; the example's one secret gets plan's placeholder.
      const plan = automationPlan(
        {
          app,
          target: "kubernetes",
          stack: "dev-kubernetes",
          secrets: [`secrets=${JSON.stringify({ "crm-token": "offline-placeholder" })}`],
        },
        {},
      );
      assert.equal(plan.stackFile, join(ROOT, "Pulumi.dev-kubernetes.yaml"));
      assert.deepEqual(offline.placeholders, ["redisPassword", "demandToken", "metricsToken", "secrets"]);
      const values = Object.fromEntries(Object.entries(plan.config).map(([key, { value }]) => [key, value]));
      const secretKeys = Object.entries(plan.config)
        .filter(([, { secret }]) => secret)
        .map(([key]) => key);
      const saved = pulumi.runtime.allConfig();
      let run: Awaited<ReturnType<typeof planUnderMocks<Record<string, unknown>>>>;
      try {
        run = await planUnderMocks(
          () => {
            pulumi.runtime.setAllConfig(values, secretKeys);
            return plan.program() as Promise<Record<string, unknown>>;
          },
          { project: plan.projectName, stack: plan.stackName },
        );
      } finally {
        pulumi.runtime.setAllConfig(saved);
      }
      const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
      const inline = [...run.resources].sort((a, b) => key(a).localeCompare(key(b)));
      assert.ok(inline.length > 5, `only ${inline.length} resources`);
      assert.deepEqual(inline.map(key), offline.resources.map(key));
      // Inputs equal too, but for secret values (a generated Redis password differs on every run).
      assert.deepEqual(
        inline.map((r) => masked(r.inputs)),
        offline.resources.map((r) => masked(r.inputs)),
      );
      assert.ok(Object.keys(run.result).length > 0, "the program exports no stack outputs");
    });
  });

  describe("loads only what it needs", () => {
    function loadedBy(argv: string[], env: NodeJS.ProcessEnv): { pulumi: boolean; sdk: boolean; code: number; err: string } {
      const script = `
        require("tsx/cjs/api").register();
        let err = "";
        const io = { out() {}, err(text) { err += text; } };
        require("./cli/main.ts").main(${JSON.stringify(argv)}, io).then((code) => {
          const loaded = Object.keys(require.cache);
          process.stdout.write(JSON.stringify({
            pulumi: loaded.some((path) => path.includes("/node_modules/@pulumi/")),
            sdk: loaded.some((path) => path.startsWith(${JSON.stringify(ROOT + "/sdk/")})),
            code,
            err,
          }));
        });`;
      const child = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8", env });
      assert.equal(child.status, 0, child.stderr);
      return JSON.parse(child.stdout);
    }

    it("answers up --help without loading Pulumi or the SDK", () => {
      const loaded = loadedBy(["up", "--help"], process.env);
      assert.deepEqual([loaded.pulumi, loaded.sdk, loaded.code], [false, false, 0]);
    });

    it("reports a missing Pulumi CLI before loading Pulumi or the SDK", () => {
      const loaded = loadedBy(["preview", "examples/support-desk", "--target", "kubernetes", "--stack", "dev"], {
        ...process.env,
        PATH: empty,
      });
      assert.deepEqual([loaded.pulumi, loaded.sdk, loaded.code], [false, false, 2]);
      assert.match(loaded.err, /^cloudloom preview needs the Pulumi CLI/);
    });
  });
});
