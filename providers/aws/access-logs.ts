/**
 * The access-log bucket of one region: S3 server access logs of the artifact
 * bucket (under `s3/`) and the access logs of the region's load balancers
 * (under `alb/`). Private, SSE-S3 encrypted (the only encryption ELB log
 * delivery and S3 server access logging write to), TLS-only (new buckets
 * already enforce bucket-owner object ownership),
 * and expiring after `LOG_RETENTION_DAYS`.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  Bucket,
  BucketLifecycleConfiguration,
  BucketPolicy,
  BucketPublicAccessBlock,
  BucketServerSideEncryptionConfiguration,
} from "@pulumi/aws/s3";
import { entryLabels } from "../shared/labels";
import { dnsSafe } from "../shared/naming";

/** Days access logs are kept. */
export const LOG_RETENTION_DAYS = 90;

/** Key prefixes of each source in the log bucket. */
export const LOG_PREFIXES = { artifacts: "s3/artifacts/", loadBalancers: "alb" } as const;

/**
 * Elastic Load Balancing's account in the regions that predate its log
 * delivery service principal (August 2022); newer regions use the principal.
 */
const ELB_ACCOUNTS: Record<string, string> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ap-east-1": "754344448648",
  "ap-south-1": "718504428378",
  "ap-northeast-1": "582318560864",
  "ap-northeast-2": "600734575887",
  "ap-northeast-3": "383597477331",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-west-3": "009996457667",
  "eu-south-1": "635631232127",
  "eu-north-1": "897822967062",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
};

/** The bucket policy: S3 logging writes `s3/` for this app's buckets, ELB writes `alb/`, and nothing without TLS. */
export function logBucketPolicy(bucketArn: string, awsRegion: string, sourceBucketPattern: string): string {
  const elb = ELB_ACCOUNTS[awsRegion];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "S3ServerAccessLogs",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${bucketArn}/${LOG_PREFIXES.artifacts}*`,
        Condition: { ArnLike: { "aws:SourceArn": sourceBucketPattern } },
      },
      {
        Sid: "LoadBalancerAccessLogs",
        Effect: "Allow",
        Principal: elb
          ? { Service: "logdelivery.elasticloadbalancing.amazonaws.com", AWS: `arn:aws:iam::${elb}:root` }
          : { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${bucketArn}/${LOG_PREFIXES.loadBalancers}/*`,
      },
      {
        Sid: "TlsOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

/** Where a load balancer writes its access logs. */
export interface LoadBalancerLogs {
  accessLogs: { bucket: pulumi.Output<string>; prefix: string; enabled: true };
  /** The bucket policy must exist before ELB checks it can write. */
  dependsOn: pulumi.Resource[];
}

/** A region's access-log bucket, typed `cloudloom:aws:AccessLogs`. */
export class AccessLogs extends pulumi.ComponentResource {
  /** The bucket's name. */
  readonly bucket: pulumi.Output<string>;
  /** Resources that must exist before anything delivers logs. */
  readonly ready: pulumi.Resource[];

  constructor(
    name: string,
    args: { app: string; awsRegion: string },
    opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource },
  ) {
    super("cloudloom:aws:AccessLogs", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "app", args.app);
    const bucket = new Bucket(name, { bucketPrefix: `${dnsSafe(args.app).slice(0, 30)}-logs-`, forceDestroy: false, tags }, child);
    const sources = `arn:aws:s3:::${dnsSafe(args.app).slice(0, 30)}-models-*`;
    const access = new BucketPublicAccessBlock(
      `${name}-private`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    this.ready = [
      access,
      new BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
        child,
      ),
      new BucketLifecycleConfiguration(
        `${name}-expiry`,
        {
          bucket: bucket.id,
          rules: [{ id: "expire-access-logs", status: "Enabled", filter: {}, expiration: { days: LOG_RETENTION_DAYS } }],
        },
        child,
      ),
      new BucketPolicy(
        `${name}-policy`,
        { bucket: bucket.id, policy: bucket.arn.apply((arn) => logBucketPolicy(arn, args.awsRegion, sources)) },
        { ...child, dependsOn: [access] },
      ),
    ];
    this.bucket = bucket.bucket;
    this.registerOutputs({ bucket: this.bucket });
  }

  /** Access-log settings of a load balancer named `name`, under `alb/<name>`. */
  forLoadBalancer(name: string): LoadBalancerLogs {
    return { accessLogs: { bucket: this.bucket, prefix: `${LOG_PREFIXES.loadBalancers}/${name}`, enabled: true }, dependsOn: this.ready };
  }
}
