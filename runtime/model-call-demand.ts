/**
 * A function pod's calls to models that hold requests, counted per model
 * version and region (held while the model starts, and in flight), and
 * reported to the gateway, which adds them to the demand a model's KEDA
 * ScaledObject reads (DEMAND_PATH): a model that only functions call is woken
 * from zero by the calls its callers hold, as it is by requests the gateway
 * holds.
 *
 * The reporter restates the counts every DEMAND_REPORT.intervalMs while there
 * are any, and once more when they drop to zero; the gateway forgets a
 * source that stops reporting after DEMAND_REPORT.ttlMs. A report that fails
 * (the gateway restarting, a network policy) is only lost: the next restates it.
 */
import { randomUUID } from "node:crypto";
import { DEMAND_REPORT, type DemandReport } from "./contract";

/** Calls of this process to one model version in one region. */
export class ModelCalls {
  /** Waiting under the model's hold while it starts. */
  pending = 0;
  /** Sent and not answered. */
  inFlight = 0;

  constructor(
    readonly model: string,
    readonly region: string,
  ) {}
}

/** Every model version this process calls and counts. */
export class ModelCallDemand {
  private readonly calls = new Map<string, ModelCalls>();

  /** The count of calls to `model` going to `region`, made once. */
  of(model: string, region: string): ModelCalls {
    const key = `${model}|${region}`;
    let calls = this.calls.get(key);
    if (!calls) {
      calls = new ModelCalls(model, region);
      this.calls.set(key, calls);
    }
    return calls;
  }

  /** The counts now, at most DEMAND_REPORT.maxCalls model versions, each in flight count at most DEMAND_REPORT.maxInFlight. */
  snapshot(): DemandReport["calls"] {
    return [...this.calls.values()]
      .slice(0, DEMAND_REPORT.maxCalls)
      .map(({ model, region, pending, inFlight }) => ({ model, region, pending, inFlight: Math.min(inFlight, DEMAND_REPORT.maxInFlight) }));
  }
}

/** Where, and with which token, a reporter sends its reports. */
export interface DemandReportTarget {
  /** The gateway's DEMAND_REPORT_PATH URL. */
  url: string;
  token: string;
}

/** Sends a process's counts to the gateway while it has calls. */
export class DemandReporter {
  /** This process, for the gateway: its counts replace its own earlier ones, never another's. */
  readonly source = randomUUID();
  private timer?: NodeJS.Timeout;
  /** True when the last report sent counted some call, so a zero report must follow. */
  private counted = false;
  private sending?: Promise<void>;
  /** True while reports fail, so a run of failures is told once. */
  private failing = false;

  constructor(
    private readonly demand: ModelCallDemand,
    private readonly target: DemandReportTarget,
    /** Told of a report that failed, once per run of failures. */
    private readonly warn: (message: string) => void = () => undefined,
    private readonly intervalMs: number = DEMAND_REPORT.intervalMs,
  ) {}

  /** Reports every `intervalMs` while there are calls, from now on. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops reporting; a source that counted calls reports zero, so the gateway stops counting it at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sending;
    if (this.counted) await this.send(this.demand.snapshot().map((calls) => ({ ...calls, pending: 0, inFlight: 0 })));
  }

  /**
   * Sends the counts now, after the report in flight (which may have counted
   * calls that have since ended): what a process about to be frozen calls, so
   * its last counts, zero at the end of its work, reach the gateway. Never rejects.
   */
  async flush(): Promise<void> {
    await this.sending;
    await this.tick();
  }

  /** Sends the counts now when they, or the last report, count some call (one report at a time). */
  tick(): Promise<void> {
    if (this.sending) return this.sending;
    const calls = this.demand.snapshot();
    const counting = calls.some((c) => c.pending > 0 || c.inFlight > 0);
    if (!counting && !this.counted) return Promise.resolve();
    this.sending = this.send(calls)
      .then((sent) => {
        if (sent) this.counted = counting;
      })
      .finally(() => (this.sending = undefined));
    return this.sending;
  }

  /** One report; true when the gateway took it. Never throws. */
  private async send(calls: DemandReport["calls"]): Promise<boolean> {
    const report: DemandReport = { source: this.source, calls };
    try {
      const response = await fetch(this.target.url, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.target.token}` },
        body: JSON.stringify(report),
        // A report that takes longer than the gateway would keep it is worth nothing; one at a time, so none pile up.
        signal: AbortSignal.timeout(DEMAND_REPORT.ttlMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`the gateway answered ${response.status}`);
      this.failing = false;
      return true;
    } catch (error) {
      if (!this.failing) this.warn(`reporting calls to models to the gateway failed: ${(error as Error).message}`);
      this.failing = true;
      return false;
    }
  }
}
