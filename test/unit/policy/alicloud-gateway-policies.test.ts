import assert from "node:assert/strict";
import type { PolicyResource } from "@pulumi/policy";
import { alicloudPrivateRedis } from "../../../policy/policies/alicloud-private-redis";

type Resource = Pick<PolicyResource, "type" | "name" | "urn" | "props">;
const redis = (props: Record<string, unknown>, name = "gw-redis"): Resource => ({
  type: "alicloud:kvstore/instance:Instance",
  name,
  urn: `urn:pulumi:dev::cloudloom::alicloud:kvstore/instance:Instance::${name}`,
  props,
});

function violations(resources: Resource[]): string[] {
  const found: string[] = [];
  alicloudPrivateRedis.validateStack!({ resources } as never, (message) => found.push(message));
  return found;
}

describe("policy cloudloom-alicloud-private-redis", () => {
  it("passes a KVStore instance in a vSwitch that admits only its VPC's CIDR", () => {
    assert.deepEqual(violations([redis({ vswitchId: "vsw-1", securityIps: ["172.16.0.0/12"], sslEnable: "Enable" })]), []);
  });

  it("refuses a whitelist of every address, a public address, a public connection and an instance outside a VPC", () => {
    const found = violations([
      redis({ vswitchId: "vsw-1", securityIps: ["10.0.0.0/8", "0.0.0.0/0"] }, "open"),
      redis({ vswitchId: "vsw-1", securityIps: ["10.0.0.0/8"], enablePublic: true }, "public"),
      redis({ securityIps: ["10.0.0.0/8"] }, "classic"),
      { type: "alicloud:kvstore/connection:Connection", name: "internet", urn: "urn:x", props: { instanceId: "r-1" } },
    ]);
    assert.equal(found.length, 4);
    assert.match(found[0], /open whitelists 0\.0\.0\.0\/0/);
    assert.match(found[1], /public has enablePublic/);
    assert.match(found[2], /classic has no vswitchId/);
    assert.match(found[3], /internet gives Redis a public address/);
  });
});
