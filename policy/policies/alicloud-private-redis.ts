/** The gateway's Redis on Alibaba Cloud (Tair / KVStore) is private: in a VPC, admitting only private ranges, with no public address. */
import type { StackValidationPolicy } from "@pulumi/policy";

/** Whitelist entries that admit the whole internet. */
const EVERYONE = new Set(["0.0.0.0/0", "0.0.0.0", "::/0"]);

/** KVStore instances sit in a vSwitch, never whitelist every address, and get no public connection. */
export const alicloudPrivateRedis: StackValidationPolicy = {
  name: "cloudloom-alicloud-private-redis",
  description:
    "Redis (Tair/KVStore) instances are reachable only inside their VPC: a vSwitch, no 0.0.0.0/0 whitelist, no public connection.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const r of resources) {
      if (r.type === "alicloud:kvstore/instance:Instance") {
        if (!r.props.vswitchId)
          report(`KVStore instance ${r.name} has no vswitchId; place it in a vSwitch of your VPC (cloudloom:gatewayNetwork)`, r.urn);
        const open = ((r.props.securityIps as string[] | undefined) ?? []).filter((ip) => EVERYONE.has(String(ip).trim()));
        if (open.length > 0)
          report(`KVStore instance ${r.name} whitelists ${open.join(", ")}; list only the VPC's CIDR in securityIps`, r.urn);
        if (r.props.enablePublic === true)
          report(`KVStore instance ${r.name} has enablePublic; remove it: the gateway reaches Redis inside the VPC`, r.urn);
      }
      if (r.type === "alicloud:kvstore/connection:Connection")
        report(`KVStore connection ${r.name} gives Redis a public address; remove it: the gateway reaches Redis inside the VPC`, r.urn);
    }
  },
};
