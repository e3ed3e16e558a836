/**
 * SARIF 2.1.0 output of policy violations and spec problems, for CI systems
 * that annotate. Each result points at the app's file and, when the spec
 * path at fault is known, the line of the offending declaration.
 */
import { relative, sep } from "node:path";
import type { StackValidationPolicy } from "@pulumi/policy";
import type { Problem } from "../sdk/spec";
import type { Violation } from "./runner";
import type { SourceOf } from "./source";

/** What the SARIF log points at. */
export interface SarifOptions {
  /** The app module (or what the user named), the location of results with no known declaration. */
  artifact: string;
  /** The declaration of a spec path. */
  sourceOf?: SourceOf;
  /** The app's spec problems (validation failed before any plan): results too, with the problem code as rule. */
  problems?: readonly Problem[];
  /** URIs are relative to it. @default process.cwd() */
  root?: string;
}

const uriOf = (file: string, root: string) => {
  const path = relative(root, file);
  return (path.startsWith("..") ? file : path).split(sep).join("/");
};

/** A SARIF log with one run of the cloudloom policy pack. */
export function toSarif(
  violations: readonly Violation[],
  policies: readonly StackValidationPolicy[],
  options: SarifOptions | string,
): object {
  const { artifact, sourceOf, problems = [], root = process.cwd() } = typeof options === "string" ? { artifact: options } : options;
  const location = (path: string | undefined, logical: string) => {
    const source = path === undefined ? undefined : sourceOf?.(path);
    return {
      physicalLocation: {
        artifactLocation: { uri: uriOf(source?.file ?? artifact, root) },
        ...(source ? { region: { startLine: source.line } } : {}),
      },
      logicalLocations: [{ fullyQualifiedName: logical }],
    };
  };
  const problemCodes = [...new Set(problems.map((p) => p.code))];
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "cloudloom-policy",
            informationUri: "https://github.com/cloudloom/cloudloom",
            rules: [
              ...policies.map((p) => ({
                id: p.name,
                shortDescription: { text: p.description },
                defaultConfiguration: { level: p.enforcementLevel === "mandatory" ? "error" : "warning" },
              })),
              ...problemCodes.map((code) => ({
                id: code,
                shortDescription: { text: `The app's declaration has a spec problem (${code}); see docs/errors.md.` },
                defaultConfiguration: { level: "error" },
              })),
            ],
          },
        },
        results: [
          ...problems.map((p) => ({
            ruleId: p.code,
            level: "error",
            message: { text: `${p.path}: ${p.message} (fix: ${p.fix})` },
            locations: [location(p.path, p.path)],
          })),
          ...violations.map((v) => ({
            ruleId: v.policy,
            level: v.level === "mandatory" ? "error" : "warning",
            message: { text: v.message },
            locations: [location(v.path, v.resource)],
          })),
        ],
      },
    ],
  };
}
