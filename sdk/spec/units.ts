/**
 * Typed unit strings and their converters. A unit string is
 * `<number> <unit>`, for example `"512 MB"` or `"30 seconds"`, or a percent
 * such as `"1%"`, so that a declaration reads like the sentence a person
 * would say.
 *
 * Each kind of unit has exactly one converter; everything that needs a
 * number calls it instead of parsing on its own.
 */

/** Size units. `1 GB` is 1024 MB, the way Lambda, FC and Kubernetes count memory. */
export type SizeUnit = "KB" | "MB" | "GB";
/** A memory or storage size, e.g. `"512 MB"` or `"16 GB"`. */
export type Size = `${number} ${SizeUnit}`;

/** Duration units, singular or plural. */
export type DurationUnit =
  "ms" | "millisecond" | "milliseconds" | "second" | "seconds" | "minute" | "minutes" | "hour" | "hours" | "day" | "days";
/** A span of time, e.g. `"30 seconds"`, `"15 minutes"` or `"5 ms"`. */
export type Duration = `${number} ${DurationUnit}`;

/** A share, e.g. `"1%"` or `"0.5%"`. */
export type Percent = `${number}%`;

const MEGABYTES_PER: Record<SizeUnit, number> = { KB: 1 / 1024, MB: 1, GB: 1024 };

const MILLISECONDS_PER: Record<DurationUnit, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  second: 1_000,
  seconds: 1_000,
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

const UNIT_STRING = /^(\d+(?:\.\d+)?) ([A-Za-z]+)$/;

function splitUnitString(value: unknown): { amount: number; unit: string } | undefined {
  if (typeof value !== "string") return undefined;
  const match = UNIT_STRING.exec(value);
  if (!match) return undefined;
  return { amount: Number(match[1]), unit: match[2] };
}

/** True when `value` is a well-formed size string such as `"512 MB"`. */
export function isSize(value: unknown): value is Size {
  const parts = splitUnitString(value);
  return parts !== undefined && Object.hasOwn(MEGABYTES_PER, parts.unit);
}

/** True when `value` is a well-formed duration string such as `"30 seconds"`. */
export function isDuration(value: unknown): value is Duration {
  const parts = splitUnitString(value);
  return parts !== undefined && Object.hasOwn(MILLISECONDS_PER, parts.unit);
}

const PERCENT_STRING = /^(\d+(?:\.\d+)?)%$/;

/** True when `value` is a well-formed percent string such as `"1%"` or `"0.5%"`. */
export function isPercent(value: unknown): value is Percent {
  return typeof value === "string" && PERCENT_STRING.test(value);
}

/**
 * Converts a percent string to a fraction: `"1%"` is 0.01.
 * @throws RangeError naming the accepted form when the string is malformed.
 */
export function toFraction(percent: Percent): number {
  const match = PERCENT_STRING.exec(String(percent));
  if (!match) throw new RangeError(`"${String(percent)}" is not a percent: write it as "<number>%", e.g. "1%" or "0.5%"`);
  return Number(match[1]) / 100;
}

/**
 * Converts a size string to megabytes.
 * @throws RangeError naming the accepted form when the string is malformed.
 */
export function toMegabytes(size: Size): number {
  const parts = splitUnitString(size);
  if (!parts || !Object.hasOwn(MEGABYTES_PER, parts.unit)) {
    throw new RangeError(`"${String(size)}" is not a size: write it as "<number> KB|MB|GB", e.g. "512 MB"`);
  }
  return parts.amount * MEGABYTES_PER[parts.unit as SizeUnit];
}

/**
 * Converts a duration string to milliseconds.
 * @throws RangeError naming the accepted form when the string is malformed.
 */
export function toMilliseconds(duration: Duration): number {
  const parts = splitUnitString(duration);
  if (!parts || !Object.hasOwn(MILLISECONDS_PER, parts.unit)) {
    throw new RangeError(
      `"${String(duration)}" is not a duration: write it as "<number> <unit>", e.g. "30 seconds" (units: ms, seconds, minutes, hours, days)`,
    );
  }
  return parts.amount * MILLISECONDS_PER[parts.unit as DurationUnit];
}

/** Converts a duration string to (possibly fractional) seconds. */
export function toSeconds(duration: Duration): number {
  return toMilliseconds(duration) / 1_000;
}
