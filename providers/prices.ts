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
 *
 * Alibaba Cloud rows were read from stored copies of Alibaba Cloud's pricing
 * pages, each source naming its page; where a page's figure needed reading
 * (a unit the page states ambiguously), the source says so and asks for it to
 * be verified.
 */

/** One priced item. */
export interface PriceRow {
  /** USD per `unit`. */
  usd: number;
  unit: "hour" | "GB-second" | "vCPU-hour" | "GB-hour" | "CU";
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

/** Function Compute 3.0 bills compute units (CU); one second of each resource converts at these factors. */
export const FC_CU = {
  /** Active vCPU (idle vCPU in idle mode: 0). */
  vcpuSecond: 1,
  gbSecond: 0.15,
  /** Tesla-series GPU memory while active (idle: 0.5). */
  teslaGpuGbSecond: 2.1,
} as const;

const FC_PRICING_PAGE =
  "Function Compute 3.0 Pay-as-you-go page (alibabacloud.com/help/en/functioncompute/fc-3-0/product-overview/pay-as-you-go-billing-method-1): tier 1 (0-100 million CU) list price, conversion factors in FC_CU";
const ENS_INSTANCE_PAGE =
  "ENS Pay-as-you-go instance page (alibabacloud.com/help/en/ens/product-overview/pay-as-you-go-instance), Chinese mainland column; its header says USD per unit per day, but ENS bills hourly and the user-level vCPU and memory page gives 8 x 0.67 + 16 x 0.2046 = 8.63 USD a day (0.36 an hour) for 8 vCPU and 16 GB, so the figure is read as per hour: list price as transcribed, verify";

/** Prices by item (`fc:cu`, `ens:<instance type>`), then Alibaba region or ENS price area (`*`: any). */
export const ALICLOUD_PRICES: Readonly<Record<string, Readonly<Record<string, PriceRow>>>> = {
  "fc:cu": { "*": row(0.00002, "CU", FC_PRICING_PAGE) },
  "ens:ens.sn1.tiny": { "cn-mainland": row(0.066, "hour", ENS_INSTANCE_PAGE) },
  "ens:ens.sn1.small": { "cn-mainland": row(0.132, "hour", ENS_INSTANCE_PAGE) },
  "ens:ens.sn1.medium": { "cn-mainland": row(0.264, "hour", ENS_INSTANCE_PAGE) },
};

/** The price area of an ENS node: the page prices the Chinese mainland as one; other nodes have no row. */
export function ensPriceArea(ensRegionId: string): string {
  return ensRegionId.startsWith("cn-") ? "cn-mainland" : ensRegionId;
}

/** The price of `item` in `region` on Alibaba Cloud, or undefined when the table has none. */
export function alicloudPrice(item: string, region: string): PriceRow | undefined {
  const rows = ALICLOUD_PRICES[item];
  return rows?.[region] ?? rows?.["*"];
}
