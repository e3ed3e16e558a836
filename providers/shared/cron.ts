/**
 * Cron helpers for targets whose scheduled floors need an end time (KEDA's
 * cron scaler) or another syntax.
 */
import { toMilliseconds, type ScheduleSpec } from "../../sdk/spec";

/** A schedule the target cannot express, with the field and a fix. */
export class ScheduleError extends Error {
  readonly code = "CL_SCHEDULE_UNSUPPORTED";
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message}; fix: ${fix}`);
    this.name = "ScheduleError";
  }
}

/**
 * The cron expression `duration` after each start of `schedule.cron`. Needs
 * numeric minute and hour fields and an end on the same day.
 */
export function endCron(schedule: ScheduleSpec): string {
  const [minute, hour, ...rest] = schedule.cron.trim().split(/\s+/);
  if (!/^\d+$/.test(minute) || !/^\d+$/.test(hour)) {
    throw new ScheduleError(`schedule "${schedule.cron}" has no fixed start time`, 'use a fixed minute and hour, e.g. "0 8 * * 1-5"');
  }
  const end = Number(hour) * 60 + Number(minute) + Math.round(toMilliseconds(schedule.duration) / 60_000);
  if (end >= 24 * 60) {
    throw new ScheduleError(
      `schedule "${schedule.cron}" lasting ${schedule.duration} crosses midnight`,
      "split it into two schedules, one per day",
    );
  }
  return [String(end % 60), String(Math.floor(end / 60)), ...rest].join(" ");
}
