/**
 * Where a value appears in plain text among the inputs of planned resources:
 * anywhere but inside a Pulumi secret (which the mocks record as
 * `{ [specialSigKey]: specialSecretSig, value }`), for tests that a secret
 * never reaches a resource's configuration.
 */
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import type { PlannedResource } from "../../providers/plan";

/** The `<type> <name> <path>` of every string input of `resources` holding `needle` outside a Pulumi secret. */
export function plaintextOf(resources: readonly Pick<PlannedResource, "type" | "name" | "inputs">[], needle: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string, where: string): void => {
    if (typeof value === "string") {
      if (value.includes(needle)) found.push(`${where} ${path}`);
      return;
    }
    if (value === null || typeof value !== "object") return;
    if ((value as Record<string, unknown>)[specialSigKey] === specialSecretSig) return;
    for (const [key, item] of Object.entries(value)) walk(item, path ? `${path}.${key}` : key, where);
  };
  for (const resource of resources) walk(resource.inputs, "", `${resource.type} ${resource.name}`);
  return found;
}
