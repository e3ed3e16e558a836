/**
 * Label children of a prom-client metric, bound once per combination of
 * label values and reused. `labels()` builds a labels object and binds a
 * function on every call, which the request path would otherwise pay for on
 * every request, for every metric it records.
 */
export class MetricChildren<T> {
  private readonly bound = new Map<string, T>();

  constructor(private readonly bind: (...values: string[]) => T) {}

  /** The child for these label values (in the metric's label order). */
  of(...values: string[]): T {
    const key = values.join("\u0000");
    let child = this.bound.get(key);
    if (child === undefined) {
      child = this.bind(...values);
      this.bound.set(key, child);
    }
    return child;
  }
}
