// Lint rules, including the dependency direction of docs/architecture.md, for
// every folder (test/unit/lint/dependency-direction.test.ts shows each rule
// refusing a bad import):
//   sdk/spec  imports nothing of ours
//   sdk       imports sdk/spec (and its own files); sdk/graph imports sdk/spec only
//   runtime   imports sdk/spec and sdk/handler; runtime/contract.ts imports nothing (types aside)
//   gateway   imports sdk/spec, sdk/graph and runtime/contract.ts, never providers or Pulumi;
//             gateway/ui (browser code) imports only the dashboard's shared modules and sdk/graph's model
//   providers import sdk/spec, runtime/contract.ts and their own cloud
//   policy    imports sdk/spec, providers and runtime/contract.ts
//   cli       reaches gateway and runtime through their public entries only
//   stacks    import sdk and the provider registry
import tseslint from "typescript-eslint";

/**
 * A top-level folder of ours, reached upward: `folder("gateway")` matches
 * `../gateway` and `../../gateway/x`, not a sibling file `./gateway` (every
 * provider has one) nor `../aws/gateway`.
 */
const folder = (name) => `^(\\.\\./)+${name}(/|$)`;

const pulumi = { group: ["@pulumi/*"], message: "only providers, stacks and the policy pack depend on Pulumi" };
const appBuilder = {
  regex: "^(\\.\\./)+sdk(/index|/app|/normalize|/declarations|/load-app)?$",
  message: "import sdk/spec (and sdk/handler), not the App builder",
};
const runtimeInternals = {
  regex: "^(\\.\\./)+runtime(/(?!contract$).*)?$",
  message: "outside the runtime, import only runtime/contract.ts (names, paths, arguments), never its implementation",
};
const gatewayAny = { regex: folder("gateway"), message: "the gateway is reached only from cli/ (through gateway/index.ts)" };
const cliAny = { regex: folder("cli"), message: "nothing imports the CLI" };
const stacksAny = { regex: folder("stacks"), message: "nothing imports the stack program but the CLI" };
const policyAny = { regex: folder("policy"), message: "nothing imports the policy pack but the CLI" };
const providersAny = { regex: folder("providers"), message: "only stacks, the CLI and the policy pack see providers" };

/** What the SDK (sdk/, outside sdk/spec) may not import. */
const sdkOnly = {
  regex: `${folder("providers")}|${folder("gateway")}|${folder("runtime")}|${folder("stacks")}|${folder("cli")}|${folder("policy")}`,
  message: "the SDK depends on sdk/spec only",
};

/** One `no-restricted-imports` rule over `files`. */
const restrict = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { "no-restricted-imports": ["error", { patterns }] },
});

/** A provider folder: its own cloud, the spec and the runtime contract (EKS and ACK models reuse providers/kubernetes). */
const provider = (name, otherClouds) =>
  restrict(
    [`providers/${name}/**/*.ts`],
    [
      gatewayAny,
      cliAny,
      stacksAny,
      policyAny,
      runtimeInternals,
      appBuilder,
      { group: otherClouds.map((cloud) => `@pulumi/${cloud}*`), message: `providers/${name} uses its own cloud's package only` },
      { regex: `^\\.\\./(${otherClouds.join("|")})(/|$)`, message: `providers/${name} never reaches into another cloud's provider` },
    ],
  );

export default tseslint.config(
  { ignores: ["node_modules/**", ".bench/**", "dist/**", "docs/reference/**", "cli/bin.js"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  restrict(["sdk/spec/*.ts"], [{ regex: "^\\.\\.(/|$)", message: "sdk/spec imports nothing else of cloudloom's" }, pulumi]),
  restrict(["sdk/spec/*/**/*.ts"], [{ regex: "^\\.\\./\\.\\.(/|$)", message: "sdk/spec imports nothing else of cloudloom's" }, pulumi]),
  restrict(["sdk/**/*.ts"], [sdkOnly, pulumi], ["sdk/spec/**"]),
  restrict(
    ["sdk/graph/**/*.ts"],
    [
      sdkOnly,
      pulumi,
      { regex: "^\\.\\./(?!spec(/|$))", message: "the graph model imports sdk/spec only, so the gateway and the CLI can both draw it" },
    ],
  ),
  restrict(
    ["runtime/contract.ts"],
    [
      {
        regex: ".*",
        allowTypeImports: true,
        message: "runtime/contract.ts imports nothing, so providers and policies never load the runtime",
      },
    ],
  ),
  restrict(
    ["runtime/**/*.ts"],
    [
      { regex: folder("gateway"), message: "the runtime never sees the gateway; the gateway calls the runtime" },
      providersAny,
      cliAny,
      stacksAny,
      policyAny,
      appBuilder,
      pulumi,
    ],
    ["runtime/contract.ts"],
  ),
  restrict(["gateway/**/*.ts"], [providersAny, cliAny, stacksAny, policyAny, runtimeInternals, appBuilder, pulumi]),
  restrict(
    ["gateway/ui/**/*.ts"],
    [
      {
        regex: "^\\.\\./(?!\\.\\./|dashboard/(snapshot|live-lines)$)|^\\.\\./\\.\\./(?!sdk/graph/model$)",
        message:
          "the dashboard page runs in the browser: it imports the dashboard's shared modules (snapshot, live-lines) and sdk/graph's model only",
      },
      pulumi,
    ],
  ),
  restrict(["providers/*.ts", "providers/shared/**/*.ts"], [gatewayAny, cliAny, stacksAny, policyAny, runtimeInternals, appBuilder]),
  provider("aws", ["alicloud"]),
  provider("alicloud", ["aws"]),
  provider("kubernetes", ["aws", "alicloud"]),
  restrict(["policy/**/*.ts"], [gatewayAny, cliAny, stacksAny, runtimeInternals, appBuilder]),
  restrict(
    ["cli/**/*.ts"],
    [
      { regex: "^(\\.\\./)+gateway/(?!index$).+", message: "the CLI uses the gateway through its public entry, gateway/index.ts" },
      { regex: "^(\\.\\./)+runtime/(?!index$).+", message: "the CLI uses the runtime through its public entry, runtime/index.ts" },
    ],
  ),
  restrict(
    ["stacks/**/*.ts"],
    [
      gatewayAny,
      runtimeInternals,
      cliAny,
      policyAny,
      { regex: "^(\\.\\./)+providers/(?!registry$).+", message: "stacks reach providers through providers/registry.ts" },
    ],
  ),
  {
    // A require() or import() that leaves its folder would slip past no-restricted-imports: such modules are imported statically.
    files: ["sdk/**/*.ts", "runtime/**/*.ts", "gateway/**/*.ts", "providers/**/*.ts", "policy/**/*.ts", "cli/**/*.ts", "stacks/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.name='require'] > Literal[value=/(^|\\/)\\.\\.\\//]",
          message: "import modules of other folders statically, so the dependency rules see them",
        },
        {
          selector: "ImportExpression > Literal[value=/(^|\\/)\\.\\.\\//]",
          message: "import modules of other folders statically, so the dependency rules see them",
        },
      ],
    },
  },
  {
    // Policies read resource props, which @pulumi/policy types as Record<string, any>.
    files: ["policy/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
  },
);
