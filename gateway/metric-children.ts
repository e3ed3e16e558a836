/**
 * Label children of a prom-client metric, bound once per combination of
 * label values and reused. `labels()` builds a labels object and binds a
 * function on every call, which the request path would otherwise pay for on
 * every request, for every metric it records. Children are found through one
 * map per label, keyed by the values as given (the route table's own strings,
 * a status as a number), so finding one builds no string.
 */
export class MetricChildren<T> {
  private readonly root = new Map<string | number, unknown>();

  constructor(private readonly bind: (...values: string[]) => T) {}

  /** The child for these label values (in the metric's label order). */
  of(...values: Array<string | number>): T {
    let level = this.root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]) as Map<string | number, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i], next);
      }
      level = next;
    }
    let child = level.get(values[last]) as T | undefined;
    if (child === undefined) {
      child = this.bind(...values.map(String));
      level.set(values[last], child);
    }
    return child;
  }
}
