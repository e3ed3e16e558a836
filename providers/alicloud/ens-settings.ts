/**
 * The ENS (Edge Node Service) regions of an Alibaba Cloud app and their stack
 * settings, `cloudloom:ens.<region>`: the image the region's instances boot
 * (one with Docker, and for GPU pools the NVIDIA driver and container
 * toolkit), the network cloudloom creates on the ENS node, and how to log in.
 */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { resolveEdgeSite, type SpecV1 } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import { parseRegionSettings } from "../shared/object-setting";

const cidr = z
  .string()
  .refine(
    (value) => ipaddr.isValidCIDR(value) && ipaddr.parseCIDR(value)[0].kind() === "ipv4",
    'must be an IPv4 CIDR such as "10.0.0.0/16"',
  );

const EnsSettingsSchema = z
  .object({
    /** The ENS image every instance of the region boots, e.g. "m-5si16wo6simkt267p8b7h". */
    imageId: z.string().regex(/^m-[0-9a-z]+$/, 'must be an ENS image id such as "m-5si16wo6simkt267p8b7h"'),
    /** The ENS network's range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or inside one). */
    cidrBlock: cidr.default("10.0.0.0/16"),
    /** The vSwitch's range, inside `cidrBlock`: the instances take fixed addresses from it. */
    vswitchCidrBlock: cidr.default("10.0.0.0/24"),
    /** An ENS key pair for SSH; without one, instances keep the image's preset password. */
    keyPairName: z.string().min(1).optional(),
  })
  .strict()
  .refine((settings) => ipaddr.parse(settings.vswitchCidrBlock.split("/")[0]).match(ipaddr.parseCIDR(settings.cidrBlock)), {
    message: "must lie inside cidrBlock",
    path: ["vswitchCidrBlock"],
  });

/** One ENS region's settings. */
export type EnsSettings = z.infer<typeof EnsSettingsSchema>;

const EXAMPLE = "pulumi config set --path 'cloudloom:ens.<region>.imageId' m-... (and cidrBlock, vswitchCidrBlock, keyPairName)";

/** The app's regions on an ENS node that run something (a function or a model): each gets its own instances. */
export function ensRegions(spec: SpecV1): string[] {
  const placed = new Set([...Object.values(spec.functions), ...Object.values(spec.models)].flatMap((entry) => entry.regions));
  return Object.keys(spec.regions).filter((region) => placed.has(region) && resolveEdgeSite(spec.regions[region].placement, "alicloud"));
}

/** Parses `cloudloom:ens` and checks that every ENS region has its settings. */
export function parseEnsSettings(json: string | undefined, spec: SpecV1): Record<string, EnsSettings> {
  const settings = parseRegionSettings("ens", json, EnsSettingsSchema, EXAMPLE);
  checkEnsSettings(spec, settings);
  return settings;
}

/** Throws a `TargetConfigError` naming the first ENS region without settings. */
export function checkEnsSettings(spec: SpecV1, settings: Record<string, EnsSettings> | undefined): void {
  for (const region of ensRegions(spec))
    if (!settings?.[region])
      throw new TargetConfigError(
        `stack config cloudloom:ens.${region} is required: region ${region} runs on the ENS node ${spec.regions[region].placement.alicloud!.ensRegion}, whose instances boot an image you choose; ${EXAMPLE.replace("<region>", region)}`,
      );
}

/** The `index`th address of `cidrBlock` (a fixed private address of an instance). */
export function hostAddress(cidrBlock: string, index: number): string {
  const [network, bits] = ipaddr.parseCIDR(cidrBlock);
  const size = 2 ** (32 - bits);
  if (index < 1 || index >= size - 1) throw new TargetConfigError(`${cidrBlock} has no host address number ${index}`);
  const base = (network as ipaddr.IPv4).toByteArray().reduce((sum, byte) => sum * 256 + byte, 0);
  const value = base - (base % size) + index;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Whether `region` runs on Alibaba's regional services (Function Compute, ACK), not on an ENS node. */
export function offEns(spec: SpecV1): (region: string) => boolean {
  return (region) => !resolveEdgeSite(spec.regions[region].placement, "alicloud");
}
