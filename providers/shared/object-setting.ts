/** Object-valued stack settings (`cloudloom:networks`, `cloudloom:ack`): JSON, checked per region against a schema. */
import { z } from "zod";
import { TargetConfigError } from "./config-error";

/** The key of a region-keyed setting that stands for every region without an entry of its own. */
export const ANY_REGION = "*";

/**
 * Parses stack config `cloudloom:<key>` (absent: `{}`) as region → `schema`;
 * a malformed value throws a `TargetConfigError` naming the field and showing `example`.
 */
export function parseRegionSettings<T extends z.ZodTypeAny>(
  key: string,
  json: string | undefined,
  schema: T,
  example: string,
): Record<string, z.infer<T>> {
  let raw: unknown = {};
  if (json !== undefined) {
    try {
      raw = JSON.parse(json);
    } catch {
      throw new TargetConfigError(`stack config cloudloom:${key} is not an object; set it per region: ${example}`);
    }
  }
  const parsed = z.record(z.string(), schema).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TargetConfigError(`stack config cloudloom:${key}.${issue.path.join(".")} ${issue.message}; ${example}`);
  }
  return parsed.data;
}

/** Parses an object-valued setting (`cloudloom:secrets`): secret name → string value. */
export function secretValues(json: string, key = "secrets"): Record<string, string> {
  let values: unknown;
  try {
    values = JSON.parse(json);
  } catch {
    values = undefined;
  }
  if (!values || typeof values !== "object" || Array.isArray(values) || Object.values(values).some((v) => typeof v !== "string"))
    throw new TargetConfigError(
      `stack config cloudloom:${key} must be an object of secret name → string value; set each with: pulumi config set --secret --path 'cloudloom:${key}.<name>' <value>`,
    );
  return values as Record<string, string>;
}
