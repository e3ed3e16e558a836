/**
 * Where a client is, from the network rather than only from what it says.
 * In order: the trusted locality header (an override the edge or a test may
 * set), the longest matching prefix of the user's prefix table (carrier and
 * office ranges), the user's GeoIP database file (MaxMind DB format, read
 * once at start, never fetched), the request's region hint, and last the
 * gateway's own home locality. Each answer names the rule that chose it, for
 * the access log.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import ipaddr from "ipaddr.js";
import { Reader } from "mmdb-lib";
import type { GatewaySettings } from "../config";

/** The rule that decided a request's locality. */
export type LocalitySource = "header" | "prefix" | "geoip" | "hint" | "home";

/** A request's locality and the rule that chose it. */
export interface ClientLocality {
  locality: string;
  by: LocalitySource;
}

/** Thrown at start when the GeoIP database cannot be read or is not a MaxMind DB. */
export class GeoIpDatabaseError extends Error {
  /** Stable code of this error class. */
  readonly code = "GATEWAY_GEOIP_DATABASE";
  constructor(path: string, cause: unknown) {
    super(
      `locality.geoip.database ${path} is not a readable MaxMind DB file (${cause instanceof Error ? cause.message : String(cause)}); give the path of a .mmdb file such as GeoLite2-Country.mmdb`,
    );
    this.name = "GeoIpDatabaseError";
  }
}

/**
 * A prefix table answering the longest matching prefix: one map per prefix
 * length, longest first, keyed by the address's leading bits.
 */
export class PrefixTable {
  private readonly lengths: Array<{ bits: number; v6: boolean; localities: Map<string, string> }> = [];

  constructor(entries: ReadonlyArray<{ cidr: string; locality: string }>) {
    for (const { cidr, locality } of entries) {
      const [address, bits] = ipaddr.parseCIDR(cidr);
      const v6 = address.kind() === "ipv6";
      let level = this.lengths.find((l) => l.bits === bits && l.v6 === v6);
      if (!level) this.lengths.push((level = { bits, v6, localities: new Map() }));
      // Two entries for one range: the first listed wins, as a reader of the table expects.
      const key = leadingBits(address.toByteArray(), bits);
      if (!level.localities.has(key)) level.localities.set(key, locality);
    }
    this.lengths.sort((a, b) => b.bits - a.bits);
  }

  /** The locality of the longest prefix holding `address`, if any. */
  lookup(address: string): string | undefined {
    if (this.lengths.length === 0 || !ipaddr.isValid(address)) return undefined;
    const parsed = ipaddr.process(address);
    const v6 = parsed.kind() === "ipv6";
    const bytes = parsed.toByteArray();
    for (const level of this.lengths) {
      if (level.v6 !== v6) continue;
      const found = level.localities.get(leadingBits(bytes, level.bits));
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

/** The first `bits` bits of `bytes`, as a string key. */
function leadingBits(bytes: number[], bits: number): string {
  let key = "";
  for (let i = 0; i * 8 < bits; i++) {
    const keep = Math.min(8, bits - i * 8);
    key += String.fromCharCode(bytes[i] & ((0xff << (8 - keep)) & 0xff));
  }
  return `${bits}:${key}`;
}

/** Reads the value at a dotted `field` path of a GeoIP record, e.g. `country.iso_code`. */
function fieldOf(record: unknown, field: readonly string[]): string | undefined {
  let value = record;
  for (const part of field) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  return typeof value === "string" && value ? value.toLowerCase() : undefined;
}

/** Opens the user's GeoIP database and returns a lookup of an address's locality (the field's value, lower-cased). */
export function geoIpLookup(settings: NonNullable<GatewaySettings["locality"]["geoip"]>): (address: string) => string | undefined {
  let reader: Reader<Record<string, unknown>>;
  try {
    reader = new Reader(readFileSync(settings.database));
  } catch (cause) {
    throw new GeoIpDatabaseError(settings.database, cause);
  }
  const field = settings.field.split(".");
  return (address) => {
    if (!ipaddr.isValid(address)) return undefined;
    try {
      return fieldOf(reader.get(address), field);
    } catch {
      // A corrupt record answers "unknown" for that address; the rest of the chain decides.
      return undefined;
    }
  };
}

/** Returns a resolver of a request's locality and the rule that chose it. */
export function localityResolver(
  settings: GatewaySettings["locality"],
): (req: IncomingMessage, client: string) => ClientLocality | undefined {
  const prefixes = new PrefixTable(settings.cidrs);
  const geoip = settings.geoip ? geoIpLookup(settings.geoip) : undefined;
  const hint = settings.hintQuery;
  const home: ClientLocality | undefined = settings.home ? { locality: settings.home, by: "home" } : undefined;
  return (req, client) => {
    const header = req.headers[settings.header];
    if (typeof header === "string" && header) return { locality: header, by: "header" };
    const address = client.startsWith("::ffff:") ? client.slice(7) : client;
    const prefix = prefixes.lookup(address);
    if (prefix !== undefined) return { locality: prefix, by: "prefix" };
    const located = geoip?.(address);
    if (located !== undefined) return { locality: located, by: "geoip" };
    const query = req.url?.indexOf("?") ?? -1;
    if (query >= 0) {
      const named = new URLSearchParams(req.url!.slice(query + 1)).get(hint);
      if (named) return { locality: named, by: "hint" };
    }
    return home;
  };
}
