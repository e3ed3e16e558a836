/**
 * A model client for a function whose model runs in another process (a
 * model-server pod, or a cloud endpoint): it posts one sample to the
 * model's predict endpoint. Keep-alive connections come from undici's
 * global dispatcher.
 */
import type { ModelClient } from "../sdk/handler";
import type { Endpoint } from "../sdk/spec";
import { authFor } from "./auth/backend-auth";
import { modelPredictPath, ServingError } from "./contract";

/** The URL a model's predictions go to: the endpoint's own URL when exact, else its base URL plus the internal path. */
function predictUrl(endpoint: Endpoint, key: string): URL {
  if (typeof endpoint === "string") return new URL(`${endpoint.replace(/\/$/, "")}${modelPredictPath(key)}`);
  return endpoint.exact ? new URL(endpoint.url) : new URL(`${endpoint.url.replace(/\/$/, "")}${modelPredictPath(key)}`);
}

/**
 * A ModelClient that calls the model at `endpoint`, authenticating as the
 * endpoint needs (SigV4 with the AWS environment's or the container's
 * credentials, or a JWT).
 */
export function remoteModelClient(endpoint: Endpoint, key: string, version: string): ModelClient {
  const url = predictUrl(endpoint, key);
  const auth = authFor(endpoint);
  const contentType = "application/json";
  const callHeaders = async (body: Buffer) => ({
    "content-type": contentType,
    ...(await auth?.({ host: url.host, path: `${url.pathname}${url.search}`, method: "POST", contentType, body })),
  });
  return {
    version,
    async predict(inputs) {
      const body = Buffer.from(
        JSON.stringify({ inputs: Object.fromEntries(Object.entries(inputs).map(([name, data]) => [name, Array.from(data)])) }),
      );
      const response = await fetch(url, { method: "POST", headers: await callHeaders(body), body });
      if (!response.ok) throw new ServingError("BAD_GATEWAY", `model ${key} answered ${response.status}`);
      const { outputs } = (await response.json()) as { outputs: Record<string, number[]> };
      return Object.fromEntries(Object.entries(outputs).map(([name, data]) => [name, Float32Array.from(data)]));
    },
  };
}
