/**
 * Turns zod's structural issues into cloudloom problems, so that a JSON file
 * with a typo gets the same kind of answer as a semantic mistake.
 */
import type { ZodIssue } from "zod";
import { PROBLEM_CODES, type Problem, type ProblemCode } from "./problems";

const FIX_BY_CODE: Partial<Record<ProblemCode, string>> = {
  CL_FIELD_REQUIRED: "add the field; docs/spec.md lists every field of Spec v1",
  CL_FIELD_UNKNOWN: "remove it, or check its spelling against docs/spec.md",
  CL_API_VERSION: 'set apiVersion to "cloudloom/v1"',
};

/** Joins a zod path into the dotted form problems use. */
export function dottedPath(path: ReadonlyArray<string | number>): string {
  return path.map(String).join(".");
}

function problemFromIssue(issue: ZodIssue): Problem[] {
  const path = dottedPath(issue.path);
  if (issue.code === "custom") {
    const params = (issue.params ?? {}) as { code?: string; fix?: string };
    const code = params.code && Object.hasOwn(PROBLEM_CODES, params.code) ? (params.code as ProblemCode) : "CL_FIELD_VALUE";
    return [{ code, path, message: `${path} ${issue.message}`, fix: params.fix ?? "correct the value" }];
  }
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      code: "CL_FIELD_UNKNOWN" as const,
      path: dottedPath([...issue.path, key]),
      message: `"${key}" is not a field of ${path || "the spec"}`,
      fix: FIX_BY_CODE.CL_FIELD_UNKNOWN!,
    }));
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

/** Converts every zod issue to problems, in the order zod found them. */
export function problemsFromIssues(issues: readonly ZodIssue[]): Problem[] {
  return issues.flatMap(problemFromIssue);
}
