/** Who read or wrote an artifact is on record: every OSS bucket but the log buckets writes an access log to another bucket. */
import type { StackValidationPolicy } from "@pulumi/policy";

type Resource = { name: string; type: string; props: Record<string, any> };

/** True when `value` names `bucket` (its name; under the offline plan, its id or the name the plan gives it). */
function names(value: unknown, bucket: Resource): boolean {
  if (typeof value !== "string" || value === "") return false;
  return value === bucket.props.bucket || value === bucket.name || value === `${bucket.name}-id` || value === `${bucket.name}-offline`;
}

/** OSS access logging on every bucket but the log buckets, through a BucketLogging or the bucket's own `logging`, to another bucket. */
export const alicloudBucketLogging: StackValidationPolicy = {
  name: "cloudloom-alicloud-bucket-logging",
  description:
    "OSS buckets (other than log buckets) write access logs to another bucket: an alicloud.oss.BucketLogging, or the bucket's logging.targetBucket.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const buckets = resources.filter((r) => r.type === "alicloud:oss/bucket:Bucket");
    const logging = resources.filter((r) => r.type === "alicloud:oss/bucketLogging:BucketLogging");
    // A log bucket: another bucket sends its access log there.
    const isLogTarget = (bucket: Resource) =>
      logging.some((l) => names(l.props.targetBucket, bucket) && !names(l.props.bucket, bucket)) ||
      buckets.some((b) => b !== bucket && names(b.props.logging?.targetBucket, bucket));
    for (const bucket of buckets) {
      if (isLogTarget(bucket)) continue;
      const inline = bucket.props.logging?.targetBucket;
      const logged =
        (typeof inline === "string" && inline !== "" && !names(inline, bucket)) ||
        logging.some(
          (l) =>
            names(l.props.bucket, bucket) &&
            typeof l.props.targetBucket === "string" &&
            l.props.targetBucket !== "" &&
            !names(l.props.targetBucket, bucket),
        );
      if (!logged)
        report(
          `OSS bucket ${bucket.name} writes no access log; add an alicloud.oss.BucketLogging to the region's log bucket (not to itself)`,
          bucket.urn,
        );
    }
  },
};
