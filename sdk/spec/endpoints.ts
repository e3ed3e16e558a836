/**
 * The endpoints map: where each function and model version is reachable,
 * per region. Stack outputs write it; the gateway reads it; the local target
 * makes its own.
 */

/** `{ functions: { name: { region: url } }, models: { "name@version": { region: url } } }`. */
export interface EndpointsMap {
  functions: Record<string, Record<string, string>>;
  models: Record<string, Record<string, string>>;
}
