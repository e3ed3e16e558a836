/** Scaling policies and pool sizes must describe something a scaler can do. */
import { CronExpressionParser } from "cron-parser";
import { MAX_HOLD_PENDING, MAX_HOLD_WAIT_MS } from "../hold";
import type { HoldSpec } from "../schema";
import { toMilliseconds } from "../units";
import { entries, type Report, type Rule } from "./report";

function checkMinMax(report: Report, path: string, min: number, max: number, minField: string, maxField: string): void {
  if (min <= max) return;
  report(
    "CL_MIN_GT_MAX",
    `${path}.${minField}`,
    `${path}.${minField} (${min}) is larger than ${maxField} (${max})`,
    `lower ${minField} to at most ${max}, or raise ${maxField}`,
  );
}

/** A hold must keep at least one request, and neither so many nor so long that waiting requests exhaust the gateway or outlive their clients. */
function checkHold(report: Report, path: string, hold: HoldSpec): void {
  const { maxPending } = hold;
  if (!Number.isInteger(maxPending) || maxPending < 1 || maxPending > MAX_HOLD_PENDING)
    report(
      "CL_HOLD_INVALID",
      `${path}.maxPending`,
      `${path}.maxPending is ${maxPending}`,
      `hold a whole number of requests from 1 to ${MAX_HOLD_PENDING.toLocaleString("en-US")}, e.g. 100`,
    );
  const waitMs = toMilliseconds(hold.maxWait);
  if (!(waitMs > 0) || waitMs > MAX_HOLD_WAIT_MS)
    report(
      "CL_HOLD_INVALID",
      `${path}.maxWait`,
      `${path}.maxWait is "${hold.maxWait}"`,
      `hold each request for more than zero and at most ${MAX_HOLD_WAIT_MS / 60_000} minutes, e.g. "30 seconds"`,
    );
}

/** True when `zone` is an IANA timezone this runtime knows. */
export function isTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/** True when `expression` is a standard five-field cron expression. */
export function isCron(expression: string): boolean {
  if (expression.trim().split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(expression);
    return true;
  } catch {
    return false;
  }
}

/** Checks min/max, scale-to-zero, scaling targets, holds and schedules. */
export const scalingRule: Rule = (spec, _context, report) => {
  for (const [name, pool] of entries(spec.gpuPools)) {
    checkMinMax(report, `gpuPools.${name}`, pool.minSize, pool.maxSize, "minSize", "maxSize");
  }
  for (const [name, policy] of entries(spec.scalingPolicies)) {
    const base = `scalingPolicies.${name}`;
    checkMinMax(report, base, policy.minInstances, policy.maxInstances, "minInstances", "maxInstances");
    const targets = [policy.targetConcurrency, policy.targetUtilization].filter((t) => t !== undefined).length;
    if (targets !== 1) {
      report(
        "CL_SCALING_TARGET",
        base,
        `${base} states ${targets === 0 ? "neither" : "both"} targetConcurrency and targetUtilization`,
        "state exactly one of targetConcurrency (requests per instance) or targetUtilization (percent)",
      );
    }
    if (policy.scaleToZero && policy.minInstances > 0) {
      report(
        "CL_SCALE_TO_ZERO_CONFLICT",
        `${base}.minInstances`,
        `${base} scales to zero but keeps minInstances ${policy.minInstances}`,
        "set minInstances to 0, or remove scaleToZero",
      );
    }
    if (policy.hold) checkHold(report, `${base}.hold`, policy.hold);
    policy.schedules.forEach((schedule, index) => {
      const path = `${base}.schedules.${index}`;
      if (!isCron(schedule.cron)) {
        report(
          "CL_CRON_INVALID",
          `${path}.cron`,
          `"${schedule.cron}" is not a five-field cron expression`,
          'write "minute hour day-of-month month day-of-week", e.g. "0 8 * * 1-5"',
        );
      }
      if (!isTimezone(schedule.timezone)) {
        report(
          "CL_TIMEZONE_INVALID",
          `${path}.timezone`,
          `"${schedule.timezone}" is not an IANA timezone`,
          'use a zone such as "UTC", "Europe/Berlin" or "Asia/Shanghai"',
        );
      }
      if (schedule.minInstances > policy.maxInstances) {
        report(
          "CL_MIN_GT_MAX",
          `${path}.minInstances`,
          `schedule ${index} floor (${schedule.minInstances}) is above maxInstances (${policy.maxInstances})`,
          `lower the floor to at most ${policy.maxInstances}`,
        );
      }
    });
  }
};
