// Lint rules, including the dependency direction of DESIGN.md:
// sdk/spec imports nothing of ours; the gateway never sees Pulumi or providers;
// providers see the spec and their own cloud only.
import tseslint from "typescript-eslint";

const pulumi = { group: ["@pulumi/*"], message: "the gateway and the SDK never depend on Pulumi" };

export default tseslint.config(
  { ignores: ["node_modules/**", ".bench/**", "cli/bin.js"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["sdk/spec/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["../../*", "../app", "../normalize", "../declarations", "../handler", "../index", "../../../*"],
              message: "sdk/spec imports nothing else of cloudloom's",
            },
            pulumi,
          ],
        },
      ],
    },
  },
  {
    files: ["sdk/**/*.ts"],
    ignores: ["sdk/spec/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["../providers/*", "../gateway/*", "../stacks/*", "../cli/*"], message: "the SDK depends on sdk/spec only" },
            pulumi,
          ],
        },
      ],
    },
  },
  {
    files: ["gateway/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            pulumi,
            { group: ["**/providers/**", "**/stacks/**"], message: "the gateway reads the spec and an endpoints map, never providers" },
            {
              regex: "(^|/)sdk(/index|/app|/normalize|/declarations)?$",
              message: "the gateway imports sdk/spec (and sdk/handler), not the App builder",
            },
          ],
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
