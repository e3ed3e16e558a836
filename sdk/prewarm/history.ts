/**
 * Invocation history for plan-time floors, from either the trace's
 * per-minute CSV shape (minute 1 is 00:00 UTC; every row is summed) or a
 * Prometheus range-query export (`/api/v1/query_range`, JSON) of the
 * gateway's request counter, whose cumulative samples become per-minute
 * increments.
 */
import { parseTrace, TraceError } from "./trace";

/** Calls per minute, and the UTC minute of day the first count falls in. */
export interface History {
  counts: number[];
  startMinuteOfDay: number;
}

interface PrometheusMatrix {
  status?: string;
  data?: { resultType?: string; result?: Array<{ values?: Array<[number, string]> }> };
}

function fromPrometheus(json: PrometheusMatrix): History {
  if (json.status !== "success" || json.data?.resultType !== "matrix" || !Array.isArray(json.data.result))
    throw new TraceError(1, 'a Prometheus export must be a query_range response: {"status":"success","data":{"resultType":"matrix",...}}');
  const perMinute = new Map<number, number>();
  for (const series of json.data.result) {
    const values = series.values ?? [];
    for (let i = 1; i < values.length; i++) {
      const value = values[i][1];
      const increase = Number(value) - Number(values[i - 1][1]);
      // A drop is a counter reset: the new value is the increase since the reset.
      const calls = increase >= 0 ? increase : Number(value);
      if (!Number.isFinite(calls)) throw new TraceError(1, `sample ${i} of a series has "${value}"; values are numbers`);
      // The increase happened between the two samples: count it in the earlier one's minute.
      const minute = Math.floor(values[i - 1][0] / 60);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + calls);
    }
  }
  if (perMinute.size === 0) throw new TraceError(1, "the Prometheus export has no samples");
  const first = Math.min(...perMinute.keys());
  const last = Math.max(...perMinute.keys());
  const counts = Array.from({ length: last - first + 1 }, (_, i) => Math.round(perMinute.get(first + i) ?? 0));
  return { counts, startMinuteOfDay: first % 1440 };
}

/** Parses a history file's text; errors name the line and the problem. */
export function parseHistory(text: string): History {
  if (text.trimStart().startsWith("{")) {
    let json: PrometheusMatrix;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new TraceError(1, `is not valid JSON: ${(error as Error).message}`);
    }
    return fromPrometheus(json);
  }
  const units = parseTrace(text);
  if (units.length === 0) throw new TraceError(2, "the trace has no rows");
  const counts = units[0].counts.map((_, minute) => units.reduce((sum, unit) => sum + unit.counts[minute], 0));
  return { counts, startMinuteOfDay: 0 };
}
