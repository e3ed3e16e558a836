/**
 * AWS-only limits. CPU models go to SageMaker Serverless, whose memory and
 * concurrency are capped. (Functions and CPU models in a Wavelength zone,
 * where Lambda and SageMaker do not run, run as runtime containers on the
 * zone's EKS nodes: see rules/edge.ts and providers/aws/edge-zone.ts.)
 */
import { SAGEMAKER_SERVERLESS } from "../targets";
import { toMegabytes } from "../units";
import { entries, type Rule } from "./report";

/** Checks SageMaker Serverless limits for the aws target. */
export const awsRule: Rule = (spec, context, report) => {
  if (context.target !== "aws") return;
  for (const [key, model] of entries(spec.models)) {
    if (model.pool) continue;
    const memory = model.memory ? toMegabytes(model.memory) : undefined;
    if (memory !== undefined && memory > SAGEMAKER_SERVERLESS.memoryMb.max) {
      report(
        "CL_SERVERLESS_LIMIT",
        `models.${key}.memory`,
        `CPU model ${key} needs ${model.memory}; SageMaker Serverless allows at most ${SAGEMAKER_SERVERLESS.memoryMb.max} MB`,
        "lower the model's memory, or give it a GPU pool (EKS)",
      );
    }
    const policy = model.scaling ? spec.scalingPolicies[model.scaling] : undefined;
    const concurrency = (policy?.maxInstances ?? 1) * (policy?.targetConcurrency ?? 1);
    if (concurrency > SAGEMAKER_SERVERLESS.maxConcurrency) {
      report(
        "CL_SERVERLESS_LIMIT",
        `models.${key}.scaling`,
        `CPU model ${key} may need ${concurrency} concurrent invocations; SageMaker Serverless allows at most ${SAGEMAKER_SERVERLESS.maxConcurrency}`,
        "lower maxInstances × targetConcurrency to 200 or less, or give the model a GPU pool",
      );
    }
  }
};
