import type { Problem, ProblemCode } from "../problems";
import type { SpecV1 } from "../schema";
import type { Target } from "../targets";

/** Options that decide which rules apply. */
export interface RuleContext {
  /** The target being deployed to; per-target rules are skipped without one. */
  target?: Target;
  /** Directory that model artifact paths are relative to; artifact checks are skipped without one. */
  root?: string;
  /** Also read what the files hold: each model's ONNX graph is compared with its signature. */
  inspectFiles?: boolean;
}

/** Records one problem. */
export type Report = (code: ProblemCode, path: string, message: string, fix: string) => void;

/** A semantic rule over a structurally valid spec. */
export type Rule = (spec: SpecV1, context: RuleContext, report: Report) => void;

/** Runs rules in order and collects every problem they report. */
export function runRules(rules: readonly Rule[], spec: SpecV1, context: RuleContext): Problem[] {
  const problems: Problem[] = [];
  const report: Report = (code, path, message, fix) => problems.push({ code, path, message, fix });
  for (const rule of rules) rule(spec, context, report);
  return problems;
}

/** `Object.entries`, typed for the spec's name-keyed records. */
export function entries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.entries(record);
}
