/**
 * Model artifacts in one Alibaba Cloud region: a private OSS bucket with
 * KMS server-side encryption, versioning and access logging to the region's
 * log bucket (access-logs.ts), and per model version the ONNX
 * file and the spec its servers read, under `<model>/<version>/`. FC model
 * functions mount that prefix read-only; the runtime checks the declared
 * sha256 when it loads the file.
 */
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Bucket, BucketObject } from "@pulumi/alicloud/oss";
import { toCanonicalJson, type ModelSpec, type SpecV1 } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { dnsSafe } from "../shared/naming";
import { accessLog } from "./access-logs";

/** Where one model version's files landed. */
export interface OssArtifact {
  bucket: pulumi.Output<string>;
  /** `/<model>/<version>`, the directory FC mounts. */
  prefix: string;
  /** RAM resource of the prefix's objects, for least-privilege read access. */
  objectsResource: pulumi.Output<string>;
}

/** The artifact bucket of an app in one region, typed `cloudloom:alicloud:ArtifactStore`. */
export class OssArtifactStore extends pulumi.ComponentResource {
  private readonly bucket: Bucket;
  private readonly child: pulumi.CustomResourceOptions;

  constructor(
    private readonly name: string,
    app: string,
    private readonly root: string,
    opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource },
    /** The region's log bucket, which receives this bucket's access log. */
    logBucket: pulumi.Input<string>,
  ) {
    super("cloudloom:alicloud:ArtifactStore", name, {}, opts);
    this.child = { parent: this, provider: opts.provider };
    this.bucket = new Bucket(
      name,
      {
        acl: "private",
        serverSideEncryptionRule: { sseAlgorithm: "KMS" },
        versioning: { status: "Enabled" },
        logging: accessLog(logBucket, "artifacts"),
        forceDestroy: false,
        tags: entryLabels(app, "app", app),
      },
      this.child,
    );
    this.registerOutputs({ bucket: this.bucket.bucket });
  }

  /** Uploads one model version's ONNX file and its serving spec. */
  put(model: ModelSpec, servingSpec: SpecV1): OssArtifact {
    const prefix = `${model.name}/${model.version}`;
    const name = `${this.name}-${dnsSafe(`${model.name}-v${model.version}`)}`;
    const encrypted = { bucket: this.bucket.bucket, serverSideEncryption: "KMS" };
    new BucketObject(name, { ...encrypted, key: `${prefix}/model.onnx`, source: resolve(this.root, model.artifact.path) }, this.child);
    new BucketObject(
      `${name}-spec`,
      { ...encrypted, key: `${prefix}/spec.json`, content: toCanonicalJson(servingSpec), contentType: "application/json" },
      this.child,
    );
    return {
      bucket: this.bucket.bucket,
      prefix: `/${prefix}`,
      objectsResource: pulumi.interpolate`acs:oss:*:*:${this.bucket.bucket}/${prefix}/*`,
    };
  }
}
