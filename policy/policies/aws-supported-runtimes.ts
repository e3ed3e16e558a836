/** Lambda functions and layers run on a Node.js runtime AWS still supports. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { FUNCTION_RUNTIMES } from "../../sdk/spec/targets";

const SUPPORTED: readonly string[] = FUNCTION_RUNTIMES.aws.supported;

/** A `nodejs*` runtime outside the supported list is deprecated (or unknown) on Lambda. */
const unsupported = (runtime: unknown): boolean =>
  typeof runtime === "string" && runtime.startsWith("nodejs") && !SUPPORTED.includes(runtime);

/** Refuses functions and layers on deprecated Node.js runtimes. */
export const awsSupportedRuntimes: StackValidationPolicy = {
  name: "cloudloom-aws-supported-runtimes",
  description: `Lambda functions and layers use a supported Node.js runtime (${SUPPORTED.join(", ")}).`,
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const fix = `use ${FUNCTION_RUNTIMES.aws.newest} (supported: ${SUPPORTED.join(", ")}; ${FUNCTION_RUNTIMES.aws.source})`;
    for (const r of resources) {
      if (r.type === "aws:lambda/function:Function" && r.props.packageType !== "Image") {
        if (r.props.runtime === undefined) report(`Lambda function ${r.name} names no runtime; ${fix}`, r.urn);
        else if (unsupported(r.props.runtime))
          report(`Lambda function ${r.name} runs on ${r.props.runtime}, which Lambda no longer supports; ${fix}`, r.urn);
      }
      if (r.type === "aws:lambda/layerVersion:LayerVersion") {
        const stale = ((r.props.compatibleRuntimes as unknown[] | undefined) ?? []).filter(unsupported);
        if (stale.length > 0)
          report(`Lambda layer ${r.name} is compatible with ${stale.join(", ")}, which Lambda no longer supports; ${fix}`, r.urn);
      }
    }
  },
};
