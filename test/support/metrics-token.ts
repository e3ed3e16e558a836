/**
 * The metrics token of test gateways in front of remote endpoints (as every
 * deployed gateway has one), and a scrape that presents it.
 */

/** The token test gateways' `/metrics` and `/metrics/demand` take. */
export const METRICS_TOKEN = "test-metrics-token-0123456789";

/** GETs `url` (a gateway's `/metrics` or `/metrics/demand`) as Prometheus and KEDA do: with the metrics token. */
export const scrape = (url: string): Promise<Response> => fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
