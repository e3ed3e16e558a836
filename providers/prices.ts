/**
 * The list prices the plan's cost estimate uses, one row per priced item and
 * region (`*`: any region without its own row), each with the date it was
 * transcribed and its source. None of these figures could be read from a
 * stored copy of the AWS price pages while writing this table, so every
 * source says so: they are public On-Demand list prices as transcribed, to be
 * verified against the AWS pricing pages (or the Price List API) before they
 * are relied on. Wavelength Zones are priced above their parent region; no
 * Wavelength price was available, so zone instances are estimated at the
 * parent region's price and the row says so.
 */

/** One priced item. */
export interface PriceRow {
  /** USD per `unit`. */
  usd: number;
  unit: "hour" | "GB-second" | "vCPU-hour" | "GB-hour";
  asOf: string;
  source: string;
}

const TRANSCRIBED = "AWS On-Demand list price as transcribed, verify on the AWS pricing page";
const AS_OF = "2026-12-01";
const row = (usd: number, unit: PriceRow["unit"], source = TRANSCRIBED): PriceRow => ({ usd, unit, asOf: AS_OF, source });

/** Prices by item (`ec2:<instance type>`, `eks:cluster`, ...), then AWS region. */
export const AWS_PRICES: Readonly<Record<string, Readonly<Record<string, PriceRow>>>> = {
  "ec2:g4dn.xlarge": { "eu-west-1": row(0.587, "hour"), "eu-central-1": row(0.658, "hour") },
  "ec2:g4dn.2xlarge": { "eu-central-1": row(0.94, "hour", `${TRANSCRIBED}; parent-region price, a Wavelength Zone charges more`) },
  "ec2:t3.medium": { "eu-central-1": row(0.048, "hour", `${TRANSCRIBED}; parent-region price, a Wavelength Zone charges more`) },
  "ec2:t3.large": { "eu-west-1": row(0.0912, "hour"), "eu-central-1": row(0.096, "hour") },
  "ec2:t3.xlarge": { "eu-central-1": row(0.192, "hour", `${TRANSCRIBED}; parent-region price, a Wavelength Zone charges more`) },
  "eks:cluster": { "*": row(0.1, "hour") },
  "fargate:vcpu": { "eu-west-1": row(0.04048, "vCPU-hour") },
  "fargate:memory": { "eu-west-1": row(0.004445, "GB-hour") },
  "elasticache:cache.t4g.small": { "eu-west-1": row(0.036, "hour") },
  "lambda:provisioned": { "*": row(0.0000041667, "GB-second", `${TRANSCRIBED} (Lambda provisioned concurrency, x86)`) },
};

/** The price of `item` in `region`, or undefined when the table has none. */
export function awsPrice(item: string, region: string): PriceRow | undefined {
  const rows = AWS_PRICES[item];
  return rows?.[region] ?? rows?.["*"];
}
