/**
 * The access log: pino JSON lines, sampled on the hot path. Every error
 * (status ≥ 500) is logged; successes at `sampleRate`. API keys never appear:
 * only the tenant id derived from them.
 */
import type { Logger } from "pino";

/** What one access-log line records. */
export interface AccessRecord {
  id: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  region?: string;
  version?: string;
  tenant: string;
  cache?: string;
}

/** Returns a function that logs (or skips) one finished request. */
export function accessLogger(logger: Logger, sampleRate: number, random: () => number = Math.random): (record: AccessRecord) => void {
  return (record) => {
    if (record.status >= 500) logger.warn(record, "request failed");
    else if (sampleRate > 0 && random() < sampleRate) logger.info(record, "request");
  };
}
