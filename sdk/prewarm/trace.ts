/**
 * Reads per-minute invocation traces in the Azure Functions 2019 shape:
 * `HashOwner,HashApp,HashFunction,Trigger,<minute>,<minute>,...`. Every
 * malformed line is reported with its line number.
 */

/** One function's invocation counts, one per minute. */
export interface TraceUnit {
  owner: string;
  app: string;
  fn: string;
  trigger: string;
  counts: number[];
}

/** A malformed trace file, with the line and what is wrong. */
export class TraceError extends Error {
  readonly code = "CL_TRACE_INVALID";
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = "TraceError";
  }
}

const HEADER = ["HashOwner", "HashApp", "HashFunction", "Trigger"];

/** Parses the CSV text of a trace. */
export function parseTrace(text: string): TraceUnit[] {
  const lines = text.split(/\r?\n/).filter((line, index, all) => line.length > 0 || index < all.length - 1);
  const header = (lines[0] ?? "").split(",");
  if (HEADER.some((name, index) => header[index] !== name) || header.length <= HEADER.length) {
    throw new TraceError(1, `the header must be ${HEADER.join(",")} followed by one column per minute`);
  }
  const minutes = header.length - HEADER.length;
  return lines.slice(1).map((line, index) => {
    const number = index + 2;
    const cells = line.split(",");
    if (cells.length !== header.length) throw new TraceError(number, `has ${cells.length} columns; the header has ${header.length}`);
    const counts = cells.slice(HEADER.length).map((cell, minute) => {
      const value = Number(cell);
      if (cell === "" || !Number.isInteger(value) || value < 0)
        throw new TraceError(number, `minute ${header[HEADER.length + minute]} has "${cell}"; counts are whole numbers of 0 or more`);
      return value;
    });
    if (counts.length !== minutes) throw new TraceError(number, "is ragged");
    return { owner: cells[0], app: cells[1], fn: cells[2], trigger: cells[3], counts };
  });
}

/** Sums units into one per app (the paper's unit of scheduling). */
export function byApp(units: readonly TraceUnit[]): TraceUnit[] {
  const apps = new Map<string, TraceUnit>();
  for (const unit of units) {
    const existing = apps.get(unit.app);
    if (!existing) apps.set(unit.app, { ...unit, fn: "*", counts: [...unit.counts] });
    else unit.counts.forEach((count, minute) => (existing.counts[minute] += count));
  }
  return [...apps.values()];
}
