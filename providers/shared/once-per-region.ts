/**
 * Wraps `create` so it runs once per region, the first time that region asks
 * (a region without functions gets no runtime layer), and returns the same
 * value after.
 */
export function oncePerRegion<T>(create: (region: string) => T): (region: string) => T {
  const created = new Map<string, T>();
  return (region) => {
    if (!created.has(region)) created.set(region, create(region));
    return created.get(region)!;
  };
}
