/**
 * OSS access logging: per region that has a bucket, one private log bucket
 * (AES256; OSS delivers its logs there), and the `logging` of every other
 * bucket of the stack (artifacts, the gateway's configuration) sends its
 * access log there under `<bucket role>/`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Bucket } from "@pulumi/alicloud/oss";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { oncePerRegion } from "../shared/once-per-region";
import type { AlicloudContext } from "./context";

/** Per spec region, created the first time a region asks: the log bucket, by its name. */
export function logBuckets(
  context: Pick<AlicloudContext, "name" | "spec" | "parent" | "regions">,
): (region: string) => pulumi.Output<string> {
  const { name, spec, parent } = context;
  return oncePerRegion((region) => {
    const { provider } = context.regions.get(region)!;
    const bucket = new Bucket(
      resourceName(name, region, "access-logs"),
      {
        acl: "private",
        serverSideEncryptionRule: { sseAlgorithm: "AES256" },
        forceDestroy: false,
        tags: entryLabels(spec.app, "app", spec.app),
      },
      { parent, provider },
    );
    return bucket.bucket;
  });
}

/** A bucket's `logging`: its access log goes to `logBucket` under `<prefix>/`. */
export function accessLog(logBucket: pulumi.Input<string>, prefix: string): { targetBucket: pulumi.Input<string>; targetPrefix: string } {
  return { targetBucket: logBucket, targetPrefix: `${prefix}/` };
}
