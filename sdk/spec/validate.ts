/**
 * `validate()`: every problem of a Spec v1 document at once. Structure is
 * checked first; the semantic rules run on a structurally valid document,
 * so each of their messages can trust the shape it reads.
 */
import type { Problem } from "./problems";
import { alicloudRule } from "./rules/alicloud";
import { asyncRule } from "./rules/async";
import { awsRule } from "./rules/aws";
import { edgeRule } from "./rules/edge";
import { acceleratorRule, modelRule } from "./rules/models";
import { functionLimitsRule } from "./rules/functions";
import { objectiveRule } from "./rules/objectives";
import { placementRule } from "./rules/placement";
import { referencesRule } from "./rules/references";
import { rolloutRule } from "./rules/rollouts";
import { routeRule } from "./rules/routes";
import { runRules, type Rule } from "./rules/report";
import { scalingRule } from "./rules/scaling";
import { SpecSchema, type SpecV1 } from "./schema";
import { problemsFromIssues } from "./structure";
import { isTarget, TARGETS, type Target } from "./targets";

/** What to validate against. */
export interface ValidateOptions {
  /** Check placement, accelerators and limits for this target. */
  target?: Target | string;
  /** The app's root directory; when given, model artifacts are read and hashed. */
  root?: string;
  /**
   * With a root, also read each model's ONNX graph (once its sha256 matches)
   * and compare its inputs and outputs with the declared signature.
   * @default false
   */
  inspectFiles?: boolean;
}

const RULES: readonly Rule[] = [
  referencesRule,
  scalingRule,
  modelRule,
  acceleratorRule,
  placementRule,
  edgeRule,
  routeRule,
  rolloutRule,
  asyncRule,
  functionLimitsRule,
  objectiveRule,
  awsRule,
  alicloudRule,
];

/** The outcome of validation: the typed spec when there were no problems. */
export type ValidationResult = { ok: true; spec: SpecV1; problems: [] } | { ok: false; problems: Problem[] };

/**
 * Validates any value as a Spec v1 document and returns all problems.
 * Never throws, whatever `input` is.
 */
export function validate(input: unknown, options: ValidateOptions = {}): ValidationResult {
  if (options.target !== undefined && !isTarget(options.target)) {
    return {
      ok: false,
      problems: [
        {
          code: "CL_TARGET_UNKNOWN",
          path: "target",
          message: `target "${String(options.target)}" is not known`,
          fix: `choose one of: ${TARGETS.join(", ")}`,
        },
      ],
    };
  }
  const parsed = SpecSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: problemsFromIssues(parsed.error.issues, SpecSchema, input) };
  const problems = runRules(RULES, parsed.data, { target: options.target, root: options.root, inspectFiles: options.inspectFiles });
  return problems.length === 0 ? { ok: true, spec: parsed.data, problems: [] } : { ok: false, problems };
}
