/** RAM grants: a custom policy of exactly these actions on exactly these resources, attached to a role. */
import * as pulumi from "@pulumi/pulumi";
import { Policy, RolePolicyAttachment, type Role } from "@pulumi/alicloud/ram";

/** Lets `role` do `actions` on `resources` (RAM ARNs); named `<name>-<purpose>`. */
export function grant(
  name: string,
  purpose: string,
  role: Role,
  actions: string[],
  resources: pulumi.Input<pulumi.Input<string>[]>,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): RolePolicyAttachment {
  const policy = new Policy(
    `${name}-${purpose}`,
    {
      policyName: `${name}-${purpose}`,
      policyDocument: pulumi
        .output(resources)
        .apply((resolved) =>
          JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Action: actions, Resource: [...new Set(resolved)].sort() }] }),
        ),
      tags,
    },
    opts,
  );
  return new RolePolicyAttachment(
    `${name}-${purpose}`,
    { roleName: role.roleName, policyName: policy.policyName, policyType: "Custom" },
    opts,
  );
}
