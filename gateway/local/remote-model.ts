/**
 * A model client for a function whose model runs in another process (a
 * model-server pod, or a cloud endpoint): it posts one sample to the
 * model's predict endpoint, signing the call with SigV4 when the endpoint
 * sits behind AWS IAM. Keep-alive connections come from undici's global
 * dispatcher.
 */
import type { ModelClient } from "../../sdk/handler";
import type { Endpoint } from "../../sdk/spec";
import { credentialsFromEnv, sigv4Headers } from "../backends/sigv4";
import { GatewayError } from "../errors";

/** Internal path a model server answers predictions on. */
export const modelPredictPath = (key: string) => `/_cloudloom/models/${encodeURIComponent(key)}`;

/** Internal path a function server answers invocations on. */
export const functionInvokePath = (name: string) => `/_cloudloom/functions/${encodeURIComponent(name)}`;

/** The URL a model's predictions go to: the endpoint's own URL when exact, else its base URL plus the internal path. */
function predictUrl(endpoint: Endpoint, key: string): URL {
  if (typeof endpoint === "string") return new URL(`${endpoint.replace(/\/$/, "")}${modelPredictPath(key)}`);
  return endpoint.exact ? new URL(endpoint.url) : new URL(`${endpoint.url.replace(/\/$/, "")}${modelPredictPath(key)}`);
}

/** Headers of one call: JSON, plus a SigV4 signature (credentials from the AWS environment) when the endpoint needs one. */
function callHeaders(endpoint: Endpoint, url: URL, body: Buffer): Record<string, string> {
  const headers = { "content-type": "application/json" };
  if (typeof endpoint === "string" || !endpoint.sigv4) return headers;
  const credentials = credentialsFromEnv();
  if (!credentials)
    throw new GatewayError("BAD_GATEWAY", "the model endpoint needs SigV4, and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set");
  const request = { host: url.host, path: `${url.pathname}${url.search}`, method: "POST", contentType: headers["content-type"], body };
  return { ...headers, ...sigv4Headers(endpoint.sigv4, request, credentials) };
}

/** A ModelClient that calls the model at `endpoint`. */
export function remoteModelClient(endpoint: Endpoint, key: string, version: string): ModelClient {
  const url = predictUrl(endpoint, key);
  return {
    version,
    async predict(inputs) {
      const body = Buffer.from(
        JSON.stringify({ inputs: Object.fromEntries(Object.entries(inputs).map(([name, data]) => [name, Array.from(data)])) }),
      );
      const response = await fetch(url, { method: "POST", headers: callHeaders(endpoint, url, body), body });
      if (!response.ok) throw new GatewayError("BAD_GATEWAY", `model ${key} answered ${response.status}`);
      const { outputs } = (await response.json()) as { outputs: Record<string, number[]> };
      return Object.fromEntries(Object.entries(outputs).map(([name, data]) => [name, Float32Array.from(data)]));
    },
  };
}
