/**
 * Turns zod's structural issues into cloudloom problems, so that a JSON file
 * with a typo gets the same kind of answer as a semantic mistake.
 */
import { z, type ZodIssue, type ZodTypeAny } from "zod";
import { PROBLEM_CODES, type Problem, type ProblemCode } from "./problems";
import { closest } from "./suggest";

const FIX_BY_CODE: Partial<Record<ProblemCode, string>> = {
  CL_FIELD_REQUIRED: "add the field; docs/spec.md lists every field of Spec v1",
  CL_FIELD_UNKNOWN: "remove it, or check its spelling against docs/spec.md",
  CL_API_VERSION: 'set apiVersion to "cloudloom/v1"',
};

/** Joins a zod path into the dotted form problems use. */
export function dottedPath(path: ReadonlyArray<string | number>): string {
  return path.map(String).join(".");
}

/** `schema` without the wrappers (optional, nullable, refinements) around the type that shapes the value. */
function unwrap(schema: ZodTypeAny): ZodTypeAny {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return unwrap(schema.unwrap());
  if (schema instanceof z.ZodEffects) return unwrap(schema.innerType());
  return schema;
}

/**
 * The fields the object at `path` of `input` may have, by walking `schema`
 * alongside the input (a discriminated union picks its member from the
 * input); undefined when the path does not lead to one object schema.
 */
function knownFields(schema: ZodTypeAny, path: ReadonlyArray<string | number>, input: unknown): string[] | undefined {
  let current = unwrap(schema);
  let value = input;
  for (const key of path) {
    if (current instanceof z.ZodDiscriminatedUnion) {
      const tag = (value as Record<string, unknown> | undefined)?.[current.discriminator];
      const option = current.optionsMap.get(tag as never);
      if (!option) return undefined;
      current = option;
    }
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, ZodTypeAny>)[key];
    else if (current instanceof z.ZodRecord) current = current.valueSchema as ZodTypeAny;
    else if (current instanceof z.ZodArray) current = current.element as ZodTypeAny;
    else return undefined;
    if (current === undefined) return undefined;
    current = unwrap(current);
    value = (value as Record<string | number, unknown> | undefined)?.[key];
  }
  if (current instanceof z.ZodDiscriminatedUnion) {
    const tag = (value as Record<string, unknown> | undefined)?.[current.discriminator];
    current = current.optionsMap.get(tag as never) ?? current;
  }
  if (current instanceof z.ZodUnion)
    current = (current.options as ZodTypeAny[]).map(unwrap).find((o) => o instanceof z.ZodObject) ?? current;
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : undefined;
}

function problemFromIssue(issue: ZodIssue, schema?: ZodTypeAny, input?: unknown): Problem[] {
  const path = dottedPath(issue.path);
  if (issue.code === "custom") {
    const params = (issue.params ?? {}) as { code?: string; fix?: string };
    const code = params.code && Object.hasOwn(PROBLEM_CODES, params.code) ? (params.code as ProblemCode) : "CL_FIELD_VALUE";
    return [{ code, path, message: `${path} ${issue.message}`, fix: params.fix ?? "correct the value" }];
  }
  if (issue.code === "unrecognized_keys") {
    const known = schema ? knownFields(schema, issue.path, input) : undefined;
    return issue.keys.map((key) => {
      const suggestion = known && closest(key, known);
      return {
        code: "CL_FIELD_UNKNOWN" as const,
        path: dottedPath([...issue.path, key]),
        message: `"${key}" is not a field of ${path || "the spec"}${suggestion ? `; did you mean "${suggestion}"?` : ""}`,
        fix: suggestion ? `rename "${key}" to "${suggestion}"` : FIX_BY_CODE.CL_FIELD_UNKNOWN!,
      };
    });
  }
  if (issue.code === "invalid_type") {
    const code = issue.received === "undefined" ? "CL_FIELD_REQUIRED" : "CL_FIELD_TYPE";
    const message =
      code === "CL_FIELD_REQUIRED"
        ? `${path || "the spec"} is required`
        : `${path || "the spec"} must be ${issue.expected}, not ${issue.received}`;
    return [{ code, path, message, fix: FIX_BY_CODE[code] ?? `give ${path} a value of type ${issue.expected}` }];
  }
  if (issue.code === "invalid_literal" && issue.path[0] === "apiVersion") {
    return [{ code: "CL_API_VERSION", path, message: `apiVersion is ${JSON.stringify(issue.received)}`, fix: FIX_BY_CODE.CL_API_VERSION! }];
  }
  return [{ code: "CL_FIELD_VALUE", path, message: `${path} ${issue.message.toLowerCase()}`, fix: `correct ${path}: ${issue.message}` }];
}

/**
 * Converts every zod issue to problems, in the order zod found them. Given
 * the schema and the input, an unknown field names the closest known one.
 */
export function problemsFromIssues(issues: readonly ZodIssue[], schema?: ZodTypeAny, input?: unknown): Problem[] {
  return issues.flatMap((issue) => problemFromIssue(issue, schema, input));
}
