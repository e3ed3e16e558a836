/**
 * A model client for a function whose model runs in another process (a
 * model-server pod): it posts one sample to the server's internal predict
 * endpoint. Keep-alive connections come from undici's global dispatcher.
 */
import type { ModelClient } from "../../sdk/handler";
import { GatewayError } from "../errors";

/** Internal path a model server answers predictions on. */
export const modelPredictPath = (key: string) => `/_cloudloom/models/${encodeURIComponent(key)}`;

/** Internal path a function server answers invocations on. */
export const functionInvokePath = (name: string) => `/_cloudloom/functions/${encodeURIComponent(name)}`;

/** A ModelClient that calls the model server at `baseUrl`. */
export function remoteModelClient(baseUrl: string, key: string, version: string): ModelClient {
  const url = `${baseUrl.replace(/\/$/, "")}${modelPredictPath(key)}`;
  return {
    version,
    async predict(inputs) {
      const body = JSON.stringify({ inputs: Object.fromEntries(Object.entries(inputs).map(([name, data]) => [name, Array.from(data)])) });
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      if (!response.ok) throw new GatewayError("BAD_GATEWAY", `model ${key} answered ${response.status}`);
      const { outputs } = (await response.json()) as { outputs: Record<string, number[]> };
      return Object.fromEntries(Object.entries(outputs).map(([name, data]) => [name, Float32Array.from(data)]));
    },
  };
}
