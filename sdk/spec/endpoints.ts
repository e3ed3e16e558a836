/**
 * The endpoints map: where each function and model version is reachable,
 * per region. Stack outputs write it; the gateway reads it; the local target
 * makes its own.
 */

/** How the gateway must sign requests to an endpoint (AWS SigV4, for IAM-auth Function URLs and SageMaker). */
export interface Sigv4Signing {
  service: string;
  region: string;
}

/** The JWT a backend accepts (Alibaba Cloud FC triggers with JWT auth): RS256, with this issuer and audience. */
export interface JwtAuth {
  issuer: string;
  audience: string;
}

/**
 * One endpoint: a base URL (the gateway appends the internal path), or a URL
 * with options: `exact` sends requests to the URL's own path, `sigv4` signs
 * them, `jwt` carries a short-lived token.
 */
export type Endpoint = string | { url: string; exact?: boolean; sigv4?: Sigv4Signing; jwt?: JwtAuth };

/** `{ functions: { name: { region: endpoint } }, models: { "name@version": { region: endpoint } } }`. */
export interface EndpointsMap {
  functions: Record<string, Record<string, Endpoint>>;
  models: Record<string, Record<string, Endpoint>>;
  /**
   * By route key (`"POST /v1/rank"`): where the backend itself splits the
   * route's traffic between the model's versions with the route's weights (an
   * FC alias with `additionalVersionWeight`). The gateway sends such a route's
   * calls there, to the model's version-less path, instead of splitting them.
   */
  canaries?: Record<string, Record<string, Endpoint>>;
}

/** The URL of an endpoint, whichever form it is written in. */
export function endpointUrl(endpoint: Endpoint): string {
  return typeof endpoint === "string" ? endpoint : endpoint.url;
}
