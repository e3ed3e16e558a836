/**
 * Standard five-field cron to AWS's six-field `cron(...)`: AWS needs a year
 * field, `?` in one of day-of-month and day-of-week, and counts weekdays 1-7
 * from Sunday instead of 0-6.
 */
import { ScheduleError } from "../shared/cron";

function shiftWeekday(token: string): string {
  return token.replace(/\d+/g, (digits, offset: number, whole: string) => {
    if (whole[offset - 1] === "/") return digits; // a step count, not a day
    return String((Number(digits) % 7) + 1);
  });
}

/** `0 8 * * 1-5` → `cron(0 8 ? * 2-6 *)`. */
export function toAwsCron(expression: string): string {
  const [minute, hour, dayOfMonth, month, dayOfWeek] = expression.trim().split(/\s+/);
  if (dayOfWeek === undefined)
    throw new ScheduleError(`"${expression}" is not a five-field cron expression`, 'write "minute hour day-of-month month day-of-week"');
  if (dayOfMonth !== "*" && dayOfWeek !== "*") {
    throw new ScheduleError(
      `"${expression}" sets both day-of-month and day-of-week, which AWS cannot combine`,
      "keep one of them as *, and split the schedule in two if you need both",
    );
  }
  const days = dayOfWeek === "*" ? [dayOfMonth, "?"] : ["?", dayOfWeek.split(",").map(shiftWeekday).join(",")];
  return `cron(${[minute, hour, days[0], month, days[1], "*"].join(" ")})`;
}
