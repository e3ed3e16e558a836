/** Who called what is on record: S3 buckets, load balancers and API stages write access logs. */
import type { StackValidationPolicy } from "@pulumi/policy";

type Resource = { name: string; type: string; props: Record<string, any> };

/** True when `value` names `bucket` (its id under the offline plan, its name, or a name from its prefix). */
function names(value: unknown, bucket: Resource): boolean {
  if (typeof value !== "string") return false;
  if (value === bucket.props.bucket || value === `${bucket.name}-id`) return true;
  return typeof bucket.props.bucketPrefix === "string" && value.startsWith(bucket.props.bucketPrefix);
}

/** S3 server access logging on every bucket but the log buckets; access logs on load balancers and API Gateway stages. */
export const awsAccessLogs: StackValidationPolicy = {
  name: "cloudloom-aws-access-logs",
  description:
    "S3 buckets (other than log buckets) have server access logging, load balancers write access logs to S3, and API Gateway stages write access logs.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const byType = (type: string) => resources.filter((r) => r.type === type);
    const logging = byType("aws:s3/bucketLogging:BucketLogging");
    const balancers = byType("aws:lb/loadBalancer:LoadBalancer");
    for (const bucket of byType("aws:s3/bucket:Bucket")) {
      const isLogTarget =
        logging.some((l) => names(l.props.targetBucket, bucket)) || balancers.some((b) => names(b.props.accessLogs?.bucket, bucket));
      if (isLogTarget) continue;
      const logged = logging.some(
        (l) => names(l.props.bucket, bucket) && typeof l.props.targetBucket === "string" && !names(l.props.targetBucket, bucket),
      );
      if (!logged)
        report(
          `S3 bucket ${bucket.name} has no server access logging; add a BucketLogging to the region's log bucket (not to itself)`,
          bucket.urn,
        );
    }
    for (const balancer of balancers) {
      const logs = balancer.props.accessLogs;
      if (balancer.props.loadBalancerType === "network" || balancer.props.loadBalancerType === "gateway") continue;
      if (!logs?.bucket || (logs.enabled !== true && logs.enabled !== "true"))
        report(`load balancer ${balancer.name} writes no access logs; set accessLogs { bucket, prefix, enabled: true }`, balancer.urn);
    }
    for (const stage of [...byType("aws:apigatewayv2/stage:Stage"), ...byType("aws:apigateway/stage:Stage")]) {
      const settings = stage.props.accessLogSettings;
      if (!settings?.destinationArn || !settings?.format)
        report(
          `API Gateway stage ${stage.name} writes no access logs; set accessLogSettings { destinationArn: a log group, format }`,
          stage.urn,
        );
    }
  },
};
