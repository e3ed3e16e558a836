/**
 * The in-process backend of the local target: the runtime called directly,
 * with no network hop, through the call the local target hands over.
 */
import type { LocalCall } from "../route-table";
import { BackendHealth } from "../routing/health";
import type { Backend, BackendRequest, BufferedResponse } from "./backend";

/** A function or model version served by the in-process runtime. */
export class LocalBackend implements Backend {
  readonly health = new BackendHealth(Number.MAX_SAFE_INTEGER, 1);

  constructor(
    private readonly localCall: LocalCall,
    private readonly kind: "function" | "model",
    private readonly entry: string,
    readonly region: string,
  ) {}

  call(request: BackendRequest): Promise<BufferedResponse> {
    return this.localCall(this.kind, this.entry, this.region, request);
  }

  async close(): Promise<void> {}
}
