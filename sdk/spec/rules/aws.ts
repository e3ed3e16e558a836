/**
 * AWS-only placement rules. Lambda and SageMaker are regional services that
 * do not run in Wavelength zones, so an app placing a function or a CPU model
 * in a Wavelength region is refused (GPU models run on the zone's EKS nodes).
 * CPU models go to SageMaker Serverless, whose memory and concurrency are capped.
 */
import { SAGEMAKER_SERVERLESS } from "../targets";
import { toMegabytes } from "../units";
import { entries, type Rule } from "./report";

/** Checks Wavelength placements and SageMaker Serverless limits for the aws target. */
export const awsRule: Rule = (spec, context, report) => {
  if (context.target !== "aws") return;
  const wavelength = new Set(
    entries(spec.regions)
      .filter(([, region]) => region.placement.aws?.zoneType === "wavelength")
      .map(([name]) => name),
  );
  for (const [name, fn] of entries(spec.functions)) {
    fn.regions.forEach((region, index) => {
      if (!wavelength.has(region)) return;
      report(
        "CL_ZONE_UNSUPPORTED",
        `functions.${name}.regions.${index}`,
        `function ${name} is placed in ${region}, a Wavelength zone, where AWS Lambda does not run`,
        `place the function in a central or Local Zone region; clients in ${region} still reach it through the gateway`,
      );
    });
  }
  for (const [key, model] of entries(spec.models)) {
    if (model.pool) continue;
    model.regions.forEach((region, index) => {
      if (!wavelength.has(region)) return;
      report(
        "CL_ZONE_UNSUPPORTED",
        `models.${key}.regions.${index}`,
        `CPU model ${key} is placed in ${region}, a Wavelength zone, where SageMaker does not run`,
        "give it a GPU pool in that region (it then runs on the zone's EKS nodes), or place it elsewhere",
      );
    });
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
