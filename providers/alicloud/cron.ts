/**
 * Standard five-field cron to Function Compute's scheduled-action syntax:
 * `cron(seconds minutes hours day-of-month month day-of-week)`, with `?` in
 * the unused day field and weekdays by name (0 and 7 are Sunday).
 */
import { ScheduleError } from "../shared/cron";

const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function weekdayNames(field: string): string {
  return field.replace(/\d+/g, (digits, offset: number, whole: string) =>
    whole[offset - 1] === "/" ? digits : WEEKDAYS[Number(digits) % 7],
  );
}

/** `0 8 * * 1-5` → `cron(0 0 8 ? * MON-FRI)`. */
export function toFcCron(expression: string): string {
  const [minute, hour, dayOfMonth, month, dayOfWeek] = expression.trim().split(/\s+/);
  if (dayOfWeek === undefined)
    throw new ScheduleError(`"${expression}" is not a five-field cron expression`, 'write "minute hour day-of-month month day-of-week"');
  if (dayOfMonth !== "*" && dayOfWeek !== "*")
    throw new ScheduleError(
      `"${expression}" sets both day-of-month and day-of-week, which Function Compute cannot combine`,
      "keep one of them as *, and split the schedule in two if you need both",
    );
  const days = dayOfWeek === "*" ? [dayOfMonth, "?"] : ["?", weekdayNames(dayOfWeek)];
  return `cron(${["0", minute, hour, days[0], month, days[1]].join(" ")})`;
}
