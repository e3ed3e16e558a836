/**
 * Which ENS instance of a region runs what, at which fixed private address
 * and port: one runtime instance (the site's general-purpose type) for the
 * region's functions and CPU models, one instance per GPU pool (the site's
 * type with the pool's accelerator, Spot only where the site sells it) for
 * that pool's models, and the gateway's instance, the only one clients reach.
 * Fixed addresses make every endpoint known before anything boots, so the
 * gateway's endpoints map is part of its user data. Pure: no Pulumi here.
 */
import { edgeCpuInstanceType, edgeGpuInstanceType, type Endpoint, type ResolvedEdgeSite, type SpecV1 } from "../../sdk/spec";
import { JWT_ISSUER } from "../../runtime/contract";
import { modelPart, resourceName } from "../shared/naming";
import { hostAddress } from "./ens-settings";

/** The host port of a region's first runtime container; each next one takes the next port. */
export const RUNTIME_PORT_BASE = 9000;

/** The most runtime containers one instance runs (the runtime security group's port range). */
export const MAX_CONTAINERS_PER_INSTANCE = 100;

/** The host port clients reach the gateway on. */
export const ENS_GATEWAY_PORT = 8080;

/** One container's entry: a function or a model version. */
export interface EnsEntry {
  kind: "function" | "model";
  /** Function name, or model key `name@version`. */
  entry: string;
  /** The container's name, also its JWT audience. */
  container: string;
  port: number;
  /** What the gateway (or a function) calls it at, with the gateway's JWT. */
  endpoint: Endpoint;
}

/** One instance of a region. */
export interface EnsHost {
  role: "runtime" | "gpu-pool" | "gateway";
  /** Resource name of the instance. */
  name: string;
  instanceType: string;
  spotStrategy: "NoSpot" | "SpotAsPriceGo";
  privateIpAddress: string;
  /** The GPU pool it serves (role "gpu-pool"). */
  pool?: string;
  entries: EnsEntry[];
}

/** Address numbers inside the vSwitch: the gateway, the runtime instance, then one per GPU pool. */
const ADDRESS = { gateway: 5, runtime: 10, firstPool: 20 } as const;

/** The instances of ENS region `region` (a part of the spec from regionSpec) at `site`. */
export function ensLayout(app: string, region: string, sub: SpecV1, site: ResolvedEdgeSite, vswitchCidrBlock: string): EnsHost[] {
  const host = (role: EnsHost["role"], suffix: string, instanceType: string, index: number, spot = false, pool?: string): EnsHost => ({
    role,
    name: resourceName(app, region, suffix),
    instanceType,
    spotStrategy: spot ? "SpotAsPriceGo" : "NoSpot",
    privateIpAddress: hostAddress(vswitchCidrBlock, index),
    pool,
    entries: [],
  });
  const cpuType = edgeCpuInstanceType(site.offers, "alicloud");
  const runtime = host("runtime", "runtime", cpuType, ADDRESS.runtime);
  const pools = [...new Set(Object.values(sub.models).flatMap((model) => (model.pool ? [model.pool] : [])))].sort();
  const poolHosts = new Map(
    pools.map((pool, i) => {
      const spec = sub.gpuPools[pool];
      const type = edgeGpuInstanceType(spec, site.offers, "alicloud");
      return [pool, host("gpu-pool", pool, type, ADDRESS.firstPool + i, spec.capacity === "spot" && site.offers.spot, pool)];
    }),
  );
  let port = RUNTIME_PORT_BASE;
  const place = (target: EnsHost, kind: EnsEntry["kind"], entry: string, container: string) => {
    if (port >= RUNTIME_PORT_BASE + MAX_CONTAINERS_PER_INSTANCE)
      throw new Error(`region ${region} places more than ${MAX_CONTAINERS_PER_INSTANCE} functions and models on ENS`);
    const url = `http://${target.privateIpAddress}:${port}`;
    target.entries.push({ kind, entry, container, port, endpoint: { url, jwt: { issuer: JWT_ISSUER, audience: container } } });
    port += 1;
  };
  for (const fn of Object.keys(sub.functions).sort()) place(runtime, "function", fn, resourceName(app, "fn", fn, region));
  for (const key of Object.keys(sub.models).sort()) {
    const model = sub.models[key];
    place(model.pool ? poolHosts.get(model.pool)! : runtime, "model", key, resourceName(app, modelPart(model.name, model.version), region));
  }
  const gateway = host("gateway", "gateway", cpuType, ADDRESS.gateway);
  return [...(runtime.entries.length > 0 ? [runtime] : []), ...poolHosts.values(), gateway];
}
