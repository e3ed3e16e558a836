/**
 * The in-process backend of the local target: the runtime called directly,
 * with no network hop.
 */
import { GatewayError } from "../errors";
import type { LocalRuntime } from "../local/runtime";
import { BackendHealth } from "../routing/health";
import type { Backend, BackendRequest, BufferedResponse } from "./backend";

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new GatewayError("BAD_JSON", "the request body is not valid JSON");
  }
}

const coldHeaders = (cold: boolean, ms: number): Record<string, string> =>
  cold ? { "x-cloudloom-cold": "true", "x-cloudloom-cold-start-ms": ms.toFixed(1) } : { "x-cloudloom-cold": "false" };

/** A function or model version served by the in-process runtime. */
export class LocalBackend implements Backend {
  readonly health = new BackendHealth(Number.MAX_SAFE_INTEGER, 1);

  constructor(
    private readonly runtime: LocalRuntime,
    private readonly kind: "function" | "model",
    private readonly entry: string,
    readonly region: string,
  ) {}

  async call(request: BackendRequest): Promise<BufferedResponse> {
    const body = parseJson(request.body);
    if (this.kind === "function") {
      const { response, cold, coldStartMs } = await this.runtime.invoke(
        this.entry,
        this.region,
        { method: request.method, path: request.path, headers: request.headers, query: request.query, body },
        request.requestId,
      );
      return {
        status: response.status,
        headers: { "content-type": "application/json; charset=utf-8", ...response.headers, ...coldHeaders(cold, coldStartMs) },
        body: Buffer.from(JSON.stringify(response.body ?? null)),
      };
    }
    const prediction = await this.runtime.predict(this.entry, this.region, (body as { inputs?: unknown } | undefined)?.inputs);
    const outputs = Object.fromEntries(Object.entries(prediction.outputs).map(([name, data]) => [name, Array.from(data)]));
    const [model, version] = this.entry.split("@");
    return {
      status: 200,
      headers: { "content-type": "application/json; charset=utf-8", ...coldHeaders(prediction.cold, prediction.coldStartMs) },
      body: Buffer.from(JSON.stringify({ model, version, outputs })),
    };
  }

  async close(): Promise<void> {}
}
