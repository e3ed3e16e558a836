/** SARIF 2.1.0 output of policy violations, for CI systems that annotate. */
import type { StackValidationPolicy } from "@pulumi/policy";
import type { Violation } from "./runner";

/** A SARIF log with one run of the cloudloom policy pack. */
export function toSarif(violations: readonly Violation[], policies: readonly StackValidationPolicy[], artifact: string): object {
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "cloudloom-policy",
            informationUri: "https://github.com/cloudloom/cloudloom",
            rules: policies.map((p) => ({
              id: p.name,
              shortDescription: { text: p.description },
              defaultConfiguration: { level: p.enforcementLevel === "mandatory" ? "error" : "warning" },
            })),
          },
        },
        results: violations.map((v) => ({
          ruleId: v.policy,
          level: v.level === "mandatory" ? "error" : "warning",
          message: { text: v.message },
          locations: [
            { physicalLocation: { artifactLocation: { uri: artifact } }, logicalLocations: [{ fullyQualifiedName: v.resource }] },
          ],
        })),
      },
    ],
  };
}
