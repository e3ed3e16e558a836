/**
 * A serverless function's calls to models that hold requests (held while the
 * model starts, and in flight), counted and reported to the gateway of its
 * region as a function pod's are (model-call-demand.ts), so a model on a
 * cluster that only functions call wakes from zero on the calls they hold.
 *
 * The platform freezes an instance between invocations (Lambda, FC), so the
 * reporter keeps nothing alive: its interval timer is unref'd and only runs
 * while an invocation does. Before an invocation answers, the counts it
 * changed are sent once more (zero, when it was the instance's last call),
 * waiting at most LAST_REPORT_TIMEOUT_MS: a gateway that is down or never
 * answers delays the function's answer by that much at most, and the
 * gateway forgets a count no later report restates after DEMAND_REPORT.ttlMs.
 * A report that fails is logged, never thrown.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { RUNTIME_ENV } from "../contract";
import { DemandReporter, ModelCallDemand, type ModelCalls } from "../model-call-demand";

/** The longest an invocation waits for its last report before it answers. */
export const LAST_REPORT_TIMEOUT_MS = 1_000;

/** Seams and tuning of InvocationDemand. */
export interface InvocationDemandOptions {
  /** The longest an invocation waits for its last report. @default LAST_REPORT_TIMEOUT_MS */
  lastReportTimeoutMs?: number;
  /** How often reports restate the counts while calls wait. @default DEMAND_REPORT.intervalMs */
  intervalMs?: number;
  /** Where warnings go (a report that failed; a URL without a token). @default a JSON line on stderr */
  warn?: (message: string) => void;
}

const logWarning = (message: string): void => console.error(JSON.stringify({ level: "warn", message }));

/** The calls of one function instance to models that hold, and their reports to `url` (the gateway's DEMAND_REPORT_PATH). */
export class InvocationDemand {
  private readonly demand = new ModelCallDemand();
  private reporter?: DemandReporter;
  private told = false;
  private readonly warn: (message: string) => void;

  constructor(
    private readonly url: string,
    private readonly options: InvocationDemandOptions = {},
  ) {
    this.warn = options.warn ?? logWarning;
  }

  /** The count of this instance's calls to model version `model` (`name@version`) going to `region`. */
  of(model: string, region: string): ModelCalls {
    return this.demand.of(model, region);
  }

  /**
   * Starts reporting with `token`, the first time one is given. Without one
   * (the stack gave the URL and no token), calls are counted and not
   * reported, and that is told once.
   */
  reportWith(token: string | undefined): void {
    if (this.reporter) return;
    const trimmed = token?.trim();
    if (!trimmed) {
      if (!this.told)
        this.warn(
          `${RUNTIME_ENV.demandReportUrl} is set but ${RUNTIME_ENV.demandToken} is not: calls to models that hold are not reported to the gateway; redeploy the stack to set both`,
        );
      this.told = true;
      return;
    }
    this.reporter = new DemandReporter(this.demand, { url: this.url, token: trimmed }, this.warn, this.options.intervalMs);
    this.reporter.start();
  }

  /** Runs one invocation; before it settles, the counts it changed reach the gateway, waiting at most the last report's timeout. */
  async around<T>(invocation: () => Promise<T>): Promise<T> {
    try {
      return await invocation();
    } finally {
      await this.lastReport();
    }
  }

  /** Sends the counts now (nothing when no report counted a call and none counts one now), for at most the last report's timeout. */
  private async lastReport(): Promise<void> {
    if (!this.reporter) return;
    const giveUp = new AbortController();
    // The report goes on if the wait ends first: its own timeout (DEMAND_REPORT.ttlMs) ends it, frozen or not.
    await Promise.race([
      this.reporter.flush().finally(() => giveUp.abort()),
      sleep(this.options.lastReportTimeoutMs ?? LAST_REPORT_TIMEOUT_MS, undefined, { signal: giveUp.signal }).catch(() => undefined),
    ]);
  }
}

/** The demand of a function instance whose stack set CLOUDLOOM_DEMAND_REPORT_URL in `env`; undefined when it did not. */
export function invocationDemandFrom(env: NodeJS.ProcessEnv, options: InvocationDemandOptions = {}): InvocationDemand | undefined {
  const url = env[RUNTIME_ENV.demandReportUrl]?.trim();
  return url ? new InvocationDemand(url, options) : undefined;
}
