/**
 * A RAM role that may read some model artifacts and nothing else: assumed by
 * a service (FC for model functions, ECS for ACK GPU nodes), with
 * `oss:GetObject` on exactly those artifacts' prefixes and `oss:ListObjects`
 * on their buckets.
 */
import * as pulumi from "@pulumi/pulumi";
import { Policy, Role, RolePolicyAttachment } from "@pulumi/alicloud/ram";
import type { OssArtifact } from "./artifacts";

/** The role, and the attachment to wait for before anything assumes it. */
export interface ArtifactReader {
  role: Role;
  attached: RolePolicyAttachment;
}

/** The policy `<name>-read`: `oss:GetObject` on exactly `artifacts`' prefixes, `oss:ListObjects` on their buckets. */
export function artifactReadPolicy(
  name: string,
  artifacts: OssArtifact[],
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): Policy {
  const objects = pulumi.all(artifacts.map((artifact) => artifact.objectsResource));
  const buckets = pulumi.all(artifacts.map((artifact) => artifact.bucket));
  return new Policy(
    `${name}-read`,
    {
      policyName: `${name}-read`,
      policyDocument: pulumi.all([objects, buckets]).apply(([objectResources, bucketNames]) =>
        JSON.stringify({
          Version: "1",
          Statement: [
            { Effect: "Allow", Action: ["oss:GetObject"], Resource: objectResources },
            { Effect: "Allow", Action: ["oss:ListObjects"], Resource: [...new Set(bucketNames)].map((bucket) => `acs:oss:*:*:${bucket}`) },
          ],
        }),
      ),
      tags,
    },
    opts,
  );
}

/** Creates `<name>-role` for `service` (e.g. "fc.aliyuncs.com") and its read policy `<name>-read`. */
export function artifactReader(
  name: string,
  service: string,
  artifacts: OssArtifact[],
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): ArtifactReader {
  const role = new Role(
    `${name}-role`,
    {
      roleName: name,
      assumeRolePolicyDocument: JSON.stringify({
        Version: "1",
        Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: [service] } }],
      }),
      tags,
    },
    opts,
  );
  const read = artifactReadPolicy(name, artifacts, tags, opts);
  const attached = new RolePolicyAttachment(
    `${name}-read`,
    { roleName: role.roleName, policyName: read.policyName, policyType: "Custom" },
    opts,
  );
  return { role, attached };
}
