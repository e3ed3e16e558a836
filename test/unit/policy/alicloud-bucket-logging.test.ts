import assert from "node:assert/strict";
import type { PolicyResource } from "@pulumi/policy";
import { planApp, stackConfig } from "../../../cli/plan";
import { alicloudBucketLogging } from "../../../policy/policies/alicloud-bucket-logging";

type Resource = Pick<PolicyResource, "type" | "name" | "urn" | "props">;
const bucket = (name: string, props: Record<string, unknown> = {}): Resource => ({
  type: "alicloud:oss/bucket:Bucket",
  name,
  urn: `urn:pulumi:dev::cloudloom::alicloud:oss/bucket:Bucket::${name}`,
  props: { bucket: `${name}-name`, ...props },
});
const logging = (name: string, props: Record<string, unknown>): Resource => ({
  type: "alicloud:oss/bucketLogging:BucketLogging",
  name,
  urn: `urn:pulumi:dev::cloudloom::alicloud:oss/bucketLogging:BucketLogging::${name}`,
  props,
});

function violations(resources: Resource[]): string[] {
  const found: string[] = [];
  alicloudBucketLogging.validateStack!({ resources } as never, (message) => found.push(message));
  return found;
}

describe("policy cloudloom-alicloud-bucket-logging", () => {
  it("passes buckets logged through a BucketLogging or their own logging, and the log bucket they log to", () => {
    assert.deepEqual(
      violations([
        bucket("logs"),
        bucket("artifacts"),
        bucket("config", { logging: { targetBucket: "logs-name", targetPrefix: "config/" } }),
        logging("artifacts-log", { bucket: "artifacts-name", targetBucket: "logs-name", targetPrefix: "artifacts/" }),
      ]),
      [],
    );
  });

  it("refuses a bucket with no access log, and one that logs to itself", () => {
    const found = violations([
      bucket("silent"),
      bucket("selfish"),
      logging("selfish-log", { bucket: "selfish-name", targetBucket: "selfish-name" }),
    ]);
    assert.equal(found.length, 2, found.join("\n"));
    assert.match(found[0], /OSS bucket silent writes no access log/);
    assert.match(found[1], /OSS bucket selfish writes no access log/);
  });

  it("passes the example on alicloud under mocks (every bucket but the log buckets is logged)", async () => {
    const plan = await planApp("examples/support-desk", "alicloud", stackConfig("alicloud"));
    const resources = plan.resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: `urn:${r.type}::${r.name}`,
      props: r.inputs as Record<string, any>,
    }));
    const buckets = resources.filter((r) => r.type === "alicloud:oss/bucket:Bucket");
    assert.ok(buckets.length >= 2, "the example has OSS buckets");
    assert.deepEqual(violations(resources as Resource[]), []);
  });
});
