/** IAM and RAM policies never grant every action on every resource. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { policyDocument } from "../resources";

const DOCUMENT_FIELDS: Record<string, string[]> = {
  "aws:iam/role:Role": ["assumeRolePolicy"],
  "aws:iam/rolePolicy:RolePolicy": ["policy"],
  "aws:iam/policy:Policy": ["policy"],
  "alicloud:ram/policy:Policy": ["policyDocument", "document"],
};

const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** No statement allows `*` (or `service:*`) on `*`. */
export const leastPrivilege: StackValidationPolicy = {
  name: "cloudloom-least-privilege",
  description: "IAM (AWS) and RAM (Alibaba Cloud) statements name their actions and resources; none allows * on *.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const r of resources) {
      const documents = [
        ...(DOCUMENT_FIELDS[r.type] ?? []).map((field) => r.props[field]),
        ...((r.props.inlinePolicies as Array<{ policy?: string }> | undefined) ?? []).map((p) => p.policy),
      ];
      for (const document of documents.map(policyDocument)) {
        for (const statement of document?.Statement ?? []) {
          if (statement.Effect !== "Allow") continue;
          const wildAction = list(statement.Action).some((a) => a === "*" || a.endsWith(":*"));
          const wildResource = list(statement.Resource).includes("*");
          if (wildAction && wildResource)
            report(
              `${r.type.split(":")[1]} ${r.name} allows ${list(statement.Action).join(", ")} on *; name the actions and the resources (ARNs) it needs`,
              r.urn,
            );
        }
      }
    }
  },
};
