/**
 * The in-process backend of the local target: the runtime called directly,
 * with no network hop, through the call the local target hands over. An
 * entry whose pool scaled to zero is cold until an instance is loaded again,
 * which `wake` starts (the hold keeps requests until then).
 */
import type { LocalCall, LocalInstances } from "../route-table";
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
    /** The entry's instances in this region, when the runtime has them (not for a model it cannot serve). */
    private readonly instances?: LocalInstances,
  ) {}

  get cold(): boolean {
    return this.instances !== undefined && this.instances.instances === 0;
  }

  call(request: BackendRequest): Promise<BufferedResponse> {
    return this.localCall(this.kind, this.entry, this.region, request);
  }

  async wake(): Promise<void> {
    await this.instances?.warmOne();
  }

  async close(): Promise<void> {}
}
