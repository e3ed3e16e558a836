/**
 * The ACK clusters an Alibaba Cloud app uses for GPU pools that ask for
 * Kubernetes, per spec region, from stack config `cloudloom:ack`: the
 * vSwitches its nodes run in, and either a cluster to reuse (`clusterId`) or
 * the pod and service CIDRs of the managed cluster cloudloom creates.
 */
import { z } from "zod";
import { poolPlatform, type SpecV1 } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import { parseRegionSettings } from "../shared/object-setting";
import { offEns } from "./ens-settings";

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be a CIDR such as "172.20.0.0/16"');

const AckSettingsSchema = z
  .object({
    /** vSwitches of the region's VPC (several zones) for the cluster and its GPU node pools. */
    vswitchIds: z.array(z.string().regex(/^vsw-[0-9a-z]+$/, 'must be vSwitch ids such as "vsw-bp1a2b3c"')).min(1),
    /** Reuse this cluster instead of creating one. */
    clusterId: z
      .string()
      .regex(/^c[0-9a-z]{8,}$/, 'must be an ACK cluster id such as "c8d1e2f3a4b5c6d7e"')
      .optional(),
    /** Pod network of a created cluster (Flannel). */
    podCidr: cidr.default("172.20.0.0/16"),
    /** Service network of a created cluster. */
    serviceCidr: cidr.default("172.21.0.0/20"),
  })
  .strict();

/** One region's ACK settings. */
export type AckSettings = z.infer<typeof AckSettingsSchema>;

const EXAMPLE = "pulumi config set --path 'cloudloom:ack.<region>.vswitchIds[0]' vsw-... (and clusterId to reuse a cluster)";

/** Regions that run models of Kubernetes-platform GPU pools, hence an ACK cluster. */
export function ackRegions(spec: SpecV1): string[] {
  const regions = new Set(
    Object.values(spec.models).flatMap((model) =>
      model.pool && poolPlatform(spec.gpuPools[model.pool], "alicloud") === "kubernetes" ? model.regions : [],
    ),
  );
  // ENS regions run every pool's models on their own instances (ens-region.ts).
  return Object.keys(spec.regions).filter((region) => regions.has(region) && offEns(spec)(region));
}

/** Parses `cloudloom:ack` and checks that every region that needs a cluster has its settings. */
export function parseAckSettings(json: string | undefined, spec: SpecV1): Record<string, AckSettings> {
  const settings = parseRegionSettings("ack", json, AckSettingsSchema, EXAMPLE);
  checkAckSettings(spec, settings);
  return settings;
}

/** Throws a `TargetConfigError` naming the first region that runs GPU pools on ACK without settings. */
export function checkAckSettings(spec: SpecV1, settings: Record<string, AckSettings> | undefined): void {
  for (const region of ackRegions(spec))
    if (!settings?.[region])
      throw new TargetConfigError(
        `stack config cloudloom:ack.${region} is required: region ${region} runs GPU pools on ACK, whose nodes need vSwitches; ${EXAMPLE}`,
      );
}

/** True when a model runs on an ACK node pool (its pool asks for Kubernetes). */
export function onAck(spec: SpecV1, key: string): boolean {
  const pool = spec.models[key].pool;
  return pool !== undefined && poolPlatform(spec.gpuPools[pool], "alicloud") === "kubernetes";
}
