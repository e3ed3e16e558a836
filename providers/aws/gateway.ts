/** The gateway on AWS. */

/**
 * The gateway step. The gateway is not a cloud resource on AWS: it runs
 * wherever `cloudloom serve --endpoints` runs with AWS credentials, and signs
 * every call (all endpoints are IAM-only).
 */
export function placeGateway(): void {
  // Nothing to create: see above.
}
