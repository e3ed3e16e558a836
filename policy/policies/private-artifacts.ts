/** Model artifacts live in private, encrypted storage, and are fetched over TLS. */
import type { StackValidationPolicy } from "@pulumi/policy";

/** Artifact URLs fetched over TLS: HTTPS, and the S3 and OSS clients (HTTPS with the node's credentials). */
const TLS_SCHEMES = ["https://", "s3://", "oss://"];

/** S3 buckets block public access and are encrypted; OSS buckets are private and encrypted; Kubernetes fetches over https. */
export const privateArtifacts: StackValidationPolicy = {
  name: "cloudloom-private-encrypted-artifacts",
  description: "Artifact storage is private and encrypted at rest; artifacts are fetched over TLS.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const byType = (type: string) => resources.filter((r) => r.type === type);
    const referencing = (type: string, bucket: { name: string; props: Record<string, any> }) =>
      byType(type).some((r) => r.props.bucket === bucket.props.bucket || r.props.bucket === `${bucket.name}-id`);
    for (const bucket of byType("aws:s3/bucket:Bucket")) {
      const blocked = byType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").some(
        (b) =>
          (b.props.bucket === bucket.props.bucket || b.props.bucket === `${bucket.name}-id`) &&
          b.props.blockPublicAcls &&
          b.props.blockPublicPolicy &&
          b.props.ignorePublicAcls &&
          b.props.restrictPublicBuckets,
      );
      if (!blocked)
        report(
          `S3 bucket ${bucket.name} does not block public access; add a BucketPublicAccessBlock with all four settings true`,
          bucket.urn,
        );
      const encrypted = referencing("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket);
      if (!encrypted)
        report(
          `S3 bucket ${bucket.name} has no server-side encryption; add a BucketServerSideEncryptionConfiguration (aws:kms or AES256)`,
          bucket.urn,
        );
    }
    for (const bucket of byType("alicloud:oss/bucket:Bucket")) {
      if ((bucket.props.acl ?? "private") !== "private")
        report(`OSS bucket ${bucket.name} has acl ${bucket.props.acl}; set acl "private"`, bucket.urn);
      if (!bucket.props.serverSideEncryptionRule)
        report(`OSS bucket ${bucket.name} has no serverSideEncryptionRule; set sseAlgorithm KMS or AES256`, bucket.urn);
    }
    for (const deployment of byType("kubernetes:apps/v1:Deployment")) {
      for (const init of deployment.props.spec?.template?.spec?.initContainers ?? []) {
        const url = (init.env as Array<{ name: string; value?: string }> | undefined)?.find((e) => e.name === "ARTIFACT_URL")?.value;
        if (url && !TLS_SCHEMES.some((scheme) => url.startsWith(scheme)))
          report(
            `Deployment ${deployment.name} fetches its model over ${url.split(":")[0]}; serve artifacts over https, or from a private s3:// or oss:// bucket`,
            deployment.urn,
          );
      }
    }
  },
};
