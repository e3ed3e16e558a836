/**
 * Loads a function's handler module in-process and gives the handler typed
 * access to the models it declared, so function → model calls never leave
 * the process on the local target.
 */
import { resolve } from "node:path";
import {
  isFunctionResponse,
  type FunctionRequest,
  type FunctionResponse,
  type Handler,
  type HandlerContext,
  type ModelClient,
} from "../sdk/handler";
import type { FunctionSpec } from "../sdk/spec";
import { ServingError } from "./contract";
import { InstancePool, type CallEvents, type PoolEvents } from "./instance-pool";
import type { PoolSizing } from "./sizing";
import { UNTRACED_SPAN } from "./trace-context";

/** What one invocation returned, normalized, and how it was served. */
export interface Invocation {
  response: FunctionResponse;
  cold: boolean;
  coldStartMs: number;
}

/** Loads the handler export from a module under `root`. */
function loadHandler(root: string, spec: FunctionSpec): Handler {
  const modulePath = resolve(root, spec.handler.module);
  const exports = require(modulePath) as Record<string, unknown>;
  const handler = exports[spec.handler.export];
  if (typeof handler !== "function") {
    throw new Error(`${spec.handler.module} does not export a function named "${spec.handler.export}"`);
  }
  return handler as Handler;
}

/** A function's pool of handler instances in one region. */
export class FunctionHost {
  private readonly pool: InstancePool<Handler>;
  private readonly onServed: CallEvents["onServed"];

  constructor(
    readonly name: string,
    readonly spec: FunctionSpec,
    root: string,
    sizing: PoolSizing,
    private readonly env: Readonly<Record<string, string>>,
    private readonly models: Record<string, ModelClient>,
    { onServed, ...events }: PoolEvents & CallEvents = {},
  ) {
    this.pool = new InstancePool({ ...sizing, ...events, slotsPerInstance: spec.concurrency, load: async () => loadHandler(root, spec) });
    this.onServed = onServed;
  }

  /** Handler instances loaded now. */
  get instances(): number {
    return this.pool.size;
  }

  /** Loads one handler instance when none is loaded (see InstancePool.warmOne); resolves once one is. */
  warmOne(): Promise<void> {
    return this.pool.warmOne();
  }

  /** Starts the policy's floor of instances. */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  /** Calls the handler, `span` its `ctx.span`; a throw becomes FUNCTION_FAILED (its details go to the log, not the client). */
  async invoke(request: FunctionRequest, region: string, requestId: string, span = UNTRACED_SPAN): Promise<Invocation> {
    const lease = await this.pool.acquire();
    this.onServed?.(1, lease.cold);
    const context: HandlerContext = { models: this.models, region, requestId, env: this.env, span };
    try {
      const result = await lease.instance(request, context);
      const response = isFunctionResponse(result) ? result : { status: 200, body: result };
      return { response, cold: lease.cold, coldStartMs: lease.coldStartMs };
    } catch (error) {
      if (error instanceof ServingError) throw error;
      throw Object.assign(new ServingError("FUNCTION_FAILED", `function ${this.name} failed`), { cause: error });
    } finally {
      this.pool.release(lease);
    }
  }

  /** Drops every instance. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
