/**
 * Helpers the policies share: reading the spec a cloudloom App component
 * carries, and the labels, tags and documents of planned resources.
 */
import type { PolicyResource } from "@pulumi/policy";
import type { SpecV1 } from "../sdk/spec";

/** The parts of a policy resource the policies read (what the offline runner can provide). */
export type PlannedPolicyResource = Pick<PolicyResource, "type" | "name" | "urn" | "props">;

/**
 * Reports a violation of the declaration at spec path `path` (`gpuPools.big`,
 * `routes.POST /rank`): the offline runner points its SARIF result at that
 * declaration's line. Pulumi's own engine takes (message, urn) and ignores
 * the path.
 */
export function reportAt(report: (message: string, urn?: string) => void, message: string, urn: string, path: string): void {
  (report as (message: string, urn: string, path: string) => void)(message, urn, path);
}

/** The spec path of the entry a cloud resource serves, from its `cloudloom.dev/kind` and `cloudloom.dev/name` labels or tags. */
export function specPathOf(resource: PlannedPolicyResource): string | undefined {
  const labels = labelsOf(resource);
  const section = { function: "functions", model: "models", gateway: undefined }[labels["cloudloom.dev/kind"] ?? ""];
  const name = labels["cloudloom.dev/name"];
  return section && name ? `${section}.${name}` : undefined;
}

/** The specs of every cloudloom App component in the stack. */
export function appSpecs(resources: readonly PlannedPolicyResource[]): Array<{ resource: PlannedPolicyResource; spec: SpecV1 }> {
  return resources
    .filter((r) => /^cloudloom:[a-z]+:App$/.test(r.type) && typeof r.props.spec === "string")
    .map((resource) => ({ resource, spec: JSON.parse(resource.props.spec as string) as SpecV1 }));
}

/** Cloud resource types that have no tags of their own (attachments and settings of tagged ones). */
export const UNTAGGABLE_TYPES = new Set([
  "aws:iam/rolePolicy:RolePolicy",
  "aws:secretsmanager/secretVersion:SecretVersion",
  "aws:s3/bucketLogging:BucketLogging",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:route53/record:Record",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:lambda/alias:Alias",
  "aws:lambda/layerVersion:LayerVersion",
  "aws:lambda/functionUrl:FunctionUrl",
  "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
  "aws:appautoscaling/policy:Policy",
  "aws:appautoscaling/scheduledAction:ScheduledAction",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:apigatewayv2/integration:Integration",
  "aws:apigatewayv2/route:Route",
  "aws:autoscaling/attachment:Attachment",
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/eipAssociation:EipAssociation",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
  "alicloud:fc/v3Alias:V3Alias",
  "alicloud:fc/v3FunctionVersion:V3FunctionVersion",
  "alicloud:fc/v3LayerVersion:V3LayerVersion",
  "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig",
  "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig",
  "alicloud:fc/v3Trigger:V3Trigger",
  "alicloud:oss/bucketObject:BucketObject",
  "alicloud:cms/alarmContact:AlarmContact",
  "alicloud:cms/alarmContactGroup:AlarmContactGroup",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  "aws:sns/topicSubscription:TopicSubscription",
  "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
  // A Helm release has no labels of its own; its chart labels what it installs.
  "kubernetes:helm.sh/v3:Release",
]);

/** True for cloud resources that carry tags or labels (not components, providers or untaggable settings). */
export function isTaggable(resource: PlannedPolicyResource): boolean {
  if (resource.type.startsWith("pulumi:providers:") || resource.type.startsWith("cloudloom:") || UNTAGGABLE_TYPES.has(resource.type))
    return false;
  return resource.type.startsWith("kubernetes:") || resource.type.startsWith("aws:") || resource.type.startsWith("alicloud:");
}

/** Labels (Kubernetes) or tags (clouds) of a resource. */
export function labelsOf(resource: PlannedPolicyResource): Record<string, string> {
  if (resource.type.startsWith("kubernetes:")) return (resource.props.metadata?.labels as Record<string, string>) ?? {};
  // Auto Scaling groups take tags as a list of { key, value, propagateAtLaunch }.
  const tags = resource.props.tags as Record<string, string> | Array<{ key: string; value: string }> | undefined;
  return Array.isArray(tags) ? Object.fromEntries(tags.map((tag) => [tag.key, tag.value])) : (tags ?? {});
}

/** Parses an IAM/RAM policy document given as a string or an object. */
export function policyDocument(
  value: unknown,
): { Statement?: Array<{ Effect?: string; Action?: string | string[]; Resource?: string | string[] }> } | undefined {
  if (typeof value === "string") {
    try {
      return JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === "object" ? (value as ReturnType<typeof policyDocument>) : undefined;
}

/** Pulumi's marker of a secret value in planned inputs (`{ [SIGNATURE]: ..., value }`). */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

/** The value inside a planned secret, else the value itself. */
export function unwrap(value: unknown): unknown {
  return typeof value === "object" && value !== null && SECRET_SIGNATURE in value ? (value as { value?: unknown }).value : value;
}

/** Every pod spec in a Kubernetes workload. */
export function podSpecOf(
  resource: PlannedPolicyResource,
): { containers?: any[]; tolerations?: any[]; initContainers?: any[]; nodeSelector?: Record<string, string> } | undefined {
  return resource.props.spec?.template?.spec;
}
