/**
 * Model artifacts in one region: a private, encrypted, versioned S3 bucket,
 * and one object per model version, uploaded with an S3 SHA-256 checksum and
 * its declared sha256 recorded in the object's metadata. S3 server access
 * logs go to the region's access-log bucket.
 */
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  Bucket,
  BucketLogging,
  BucketObjectv2,
  BucketPublicAccessBlock,
  BucketServerSideEncryptionConfiguration,
  BucketVersioning,
} from "@pulumi/aws/s3";
import { toCanonicalJson, type ModelSpec, type SpecV1 } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { dnsSafe } from "../shared/naming";
import { LOG_PREFIXES, type AccessLogs } from "./access-logs";

/** Where one artifact landed. */
export interface StoredArtifact {
  /** `s3://bucket/key`. */
  uri: pulumi.Output<string>;
  /** The object's ARN, for least-privilege read access. */
  arn: pulumi.Output<string>;
  /** `s3://bucket/<model>/<version>/`: the artifact and its serving spec, as SageMaker reads a model directory. */
  prefixUri: pulumi.Output<string>;
  /** The prefix's objects (ARN pattern `<bucket arn>/<model>/<version>/*`). */
  prefixArn: pulumi.Output<string>;
}

/** The artifact bucket of an app in one region, typed `cloudloom:aws:ArtifactStore`. */
export class ArtifactStore extends pulumi.ComponentResource {
  private readonly bucket: Bucket;
  private readonly ready: pulumi.Resource[];
  private readonly child: pulumi.CustomResourceOptions;

  constructor(
    private readonly name: string,
    private readonly app: string,
    private readonly root: string,
    opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource; accessLogs: AccessLogs },
  ) {
    super("cloudloom:aws:ArtifactStore", name, {}, { parent: opts.parent, provider: opts.provider });
    const child = { parent: this, provider: opts.provider };
    this.child = child;
    const tags = entryLabels(app, "app", app);
    this.bucket = new Bucket(name, { bucketPrefix: `${dnsSafe(app).slice(0, 30)}-models-`, forceDestroy: false, tags }, child);
    this.ready = [
      new BucketPublicAccessBlock(
        `${name}-private`,
        { bucket: this.bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        child,
      ),
      new BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        { bucket: this.bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] },
        child,
      ),
      new BucketVersioning(`${name}-versioning`, { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } }, child),
      new BucketLogging(
        `${name}-access-logs`,
        { bucket: this.bucket.id, targetBucket: opts.accessLogs.bucket, targetPrefix: LOG_PREFIXES.artifacts },
        { ...child, dependsOn: opts.accessLogs.ready },
      ),
    ];
    this.registerOutputs({ bucket: this.bucket.id });
  }

  /**
   * Uploads one model version's ONNX file, pinned by its sha256, and the
   * spec its servers read (`spec.json`) beside it.
   */
  put(model: ModelSpec, servingSpec: SpecV1): StoredArtifact {
    const prefix = `${model.name}/${model.version}/`;
    const name = `${this.name}-${dnsSafe(`${model.name}-v${model.version}`)}`;
    const tags = entryLabels(this.app, "model", model.name, { "cloudloom.dev/version": model.version });
    const object = new BucketObjectv2(
      name,
      {
        bucket: this.bucket.id,
        key: `${prefix}model.onnx`,
        source: new pulumi.asset.FileAsset(resolve(this.root, model.artifact.path)),
        checksumAlgorithm: "SHA256",
        metadata: { sha256: model.artifact.sha256 },
        tags,
      },
      { ...this.child, dependsOn: this.ready },
    );
    new BucketObjectv2(
      `${name}-spec`,
      { bucket: this.bucket.id, key: `${prefix}spec.json`, content: toCanonicalJson(servingSpec), contentType: "application/json", tags },
      { ...this.child, dependsOn: this.ready },
    );
    return {
      uri: pulumi.interpolate`s3://${this.bucket.bucket}/${prefix}model.onnx`,
      arn: object.arn,
      prefixUri: pulumi.interpolate`s3://${this.bucket.bucket}/${prefix}`,
      prefixArn: pulumi.interpolate`${this.bucket.arn}/${prefix}*`,
    };
  }
}
