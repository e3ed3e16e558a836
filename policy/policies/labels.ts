/** Every resource points back to its spec entry. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { REQUIRED_LABELS } from "../../providers/shared/labels";
import { isTaggable, labelsOf } from "../resources";

/** Kubernetes labels or cloud tags carry cloudloom.dev/app, kind and name. */
export const cloudloomLabels: StackValidationPolicy = {
  name: "cloudloom-labels",
  description: "Every cloud resource carries the cloudloom.dev/app, cloudloom.dev/kind and cloudloom.dev/name labels or tags.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const r of resources.filter(isTaggable)) {
      const labels = labelsOf(r);
      const missing = REQUIRED_LABELS.filter((key) => !labels[key]);
      if (missing.length > 0)
        report(
          `${r.type.split(":").slice(1).join(":")} ${r.name} lacks ${missing.join(", ")}; tag it with providers/shared/labels.ts entryLabels()`,
          r.urn,
        );
    }
  },
};
