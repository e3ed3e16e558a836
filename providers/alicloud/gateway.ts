/** The gateway on Alibaba Cloud. */

/**
 * The gateway step. The gateway is not a cloud resource here: it runs
 * wherever `cloudloom serve --endpoints` runs with CLOUDLOOM_JWT_PRIVATE_KEY,
 * and carries a JWT on every call.
 */
export function placeGateway(): void {
  // Nothing to create: see above.
}
