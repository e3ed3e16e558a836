/**
 * Which onnxruntime execution providers a model server creates its sessions
 * with. A model placed on a GPU pool (Kubernetes, EKS, ACK, FC GPU) tries
 * CUDA first; when no GPU is usable there (no CUDA binaries, no driver, no
 * device) the runtime falls back to the CPU once, with one warning line,
 * and every later session of the process goes straight to the CPU.
 */
import * as ort from "onnxruntime-node";
import type { ModelSpec } from "../sdk/spec";
import { EXECUTION_PROVIDERS_ENV } from "./contract";

/** The execution providers cloudloom knows how to ask onnxruntime-node for. */
export const KNOWN_EXECUTION_PROVIDERS = ["cuda", "tensorrt", "cpu"] as const;

/** One execution provider. */
export type ExecutionProvider = (typeof KNOWN_EXECUTION_PROVIDERS)[number];

/**
 * The providers to try, in order: `CLOUDLOOM_EXECUTION_PROVIDERS` when set,
 * else CUDA then CPU for a model on a GPU pool, else the CPU.
 */
export function chooseExecutionProviders(model: Pick<ModelSpec, "pool">, env: NodeJS.ProcessEnv = process.env): ExecutionProvider[] {
  const override = env[EXECUTION_PROVIDERS_ENV]?.trim();
  if (override) {
    const names = override
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean);
    const unknown = names.filter((name) => !(KNOWN_EXECUTION_PROVIDERS as readonly string[]).includes(name));
    if (unknown.length > 0 || names.length === 0)
      throw new Error(
        `${EXECUTION_PROVIDERS_ENV}=${override}: unknown execution provider(s) ${unknown.join(", ")}; use a comma-separated list of ${KNOWN_EXECUTION_PROVIDERS.join(", ")}`,
      );
    return [...new Set(names)] as ExecutionProvider[];
  }
  return model.pool ? ["cuda", "cpu"] : ["cpu"];
}

/** Creates one session of `artifact` with `options` (in this thread, or in a session thread). */
export type SessionCreator<S> = (artifact: Uint8Array, options: ort.InferenceSession.SessionOptions) => Promise<S>;

const inProcess: SessionCreator<ort.InferenceSession> = (artifact, options) => ort.InferenceSession.create(artifact, options);

/**
 * Creates sessions with the chosen providers, falling back to the CPU once if
 * they cannot be used. Sessions are in-process unless `create` makes them
 * elsewhere (the model host makes session threads).
 */
export class SessionFactory<S = ort.InferenceSession> {
  /** The providers sessions are created with now (`["cpu"]` after a fallback). */
  providers: ExecutionProvider[];
  /** Why the preferred providers were given up, after a fallback. */
  fallbackReason: string | undefined;

  constructor(
    readonly preferred: ExecutionProvider[],
    private readonly warn: (message: string) => void,
    private readonly label = "model",
    // Without `create`, S is the default InferenceSession, which is what inProcess makes.
    private readonly create: SessionCreator<S> = inProcess as unknown as SessionCreator<S>,
  ) {
    this.providers = preferred;
  }

  /** A session of `artifact`: on the preferred providers, or on the CPU when they fail and the CPU does not. */
  async session(artifact: Uint8Array, options: ort.InferenceSession.SessionOptions = {}): Promise<S> {
    const providers = this.providers;
    try {
      return await this.create(artifact, { ...options, executionProviders: providers });
    } catch (error) {
      if (providers.length === 1 && providers[0] === "cpu") throw error;
      const session = await this.create(artifact, { ...options, executionProviders: ["cpu"] });
      // Only now (the CPU works, so the artifact is fine) is the failure the providers'.
      if (this.providers !== providers) return session;
      this.providers = ["cpu"];
      this.fallbackReason = firstLine(error);
      this.warn(
        `${this.label}: execution providers ${providers.join(",")} are not usable here (${this.fallbackReason}); running on the CPU`,
      );
      return session;
    }
  }
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split("\n")[0];
