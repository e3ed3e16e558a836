/**
 * Runs a gateway's rollouts. Every `syncIntervalMs` each instance adds its
 * counts to the store, reads each rollout's state and serves its weights;
 * the instance holding the lease also judges the step and writes the
 * transition (advance, complete, roll back) with its evidence. Operators
 * pause, resume and abort through any instance. The store failing never
 * stops the gateway: it serves the weights it last knew, keeps its counts
 * for the next flush, and judges nothing until the store answers again.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { ServingError } from "../../runtime/contract";
import type { GatewaySettings } from "../config";
import type { GatewayMetrics } from "../metrics";
import type { RouteTable } from "../route-table";
import { decide, evidenceOf, type Evidence } from "./judge";
import { rolloutPlan, weightsAt, type RolloutPlan } from "./plan";
import { Rollout } from "./rollout";
import { afterTransition, PHASES, startState, type Phase, type RolloutState, type Transition } from "./state";
import { RolloutStateError, type RolloutStore } from "./store";

/** What an operator may do to a rollout. */
export type RolloutAction = "pause" | "resume" | "abort";

/** A rollout as the status endpoint and `cloudloom rollout status` show it. */
export interface RolloutStatus {
  route: string;
  model: string;
  from: string;
  to: string;
  /** `pending` until this instance has read or written the rollout's state. */
  phase: Phase | "pending";
  /** The current step, from 1. */
  step?: number;
  steps: number[];
  /** Each version's percent, as this instance serves them. */
  weights: Record<string, number>;
  /** When the step (or phase) began, ISO 8601. */
  since?: string;
  interval: string;
  gate: RolloutPlan["declared"]["gate"];
  /** Each version's requests, errors, error rate and p99 in the current step, across every instance. */
  observed?: Evidence;
  /** Why a progressing step has not moved yet. */
  waiting?: string;
  /** The last transition's reason. */
  reason?: string;
  history: Transition[];
  /** Where the state lives. */
  store: "redis" | "memory";
  /** True when the store could not be read just now: the weights are the last this instance knew. */
  stale: boolean;
  /** True when this instance holds the lease and judges the steps. */
  leader: boolean;
}

/** What a controller runs on. */
export interface RolloutControllerOptions {
  store: RolloutStore;
  metrics: GatewayMetrics;
  logger: Logger;
  /** The clock (epoch ms) steps are timed by. */
  now: () => number;
  settings: GatewaySettings["rollouts"];
}

const ACTIONS: Record<RolloutAction, { from: readonly Phase[]; kind: Transition["kind"] }> = {
  pause: { from: ["progressing"], kind: "paused" },
  resume: { from: ["paused"], kind: "resumed" },
  abort: { from: ["progressing", "paused"], kind: "aborted" },
};

/** The rollouts of one gateway instance. */
export class RolloutController {
  /** This instance's name in transitions and its lease token: host, process and a random part. */
  readonly instance = `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
  private readonly rollouts = new Map<string, Rollout>();
  private readonly store: RolloutStore;
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private leader = false;
  /** True while the store fails: the outage is logged once, and its end. */
  private failing = false;
  /** Rollouts whose stored state does not parse, with the reason last logged. */
  private readonly unparsed = new Map<string, string>();

  constructor(private readonly options: RolloutControllerOptions) {
    this.store = options.store;
    this.log = options.logger;
  }

  /**
   * Gives every rollout route of `table` its live split and tally (kept
   * across reloads for the same rollout), and forgets rollouts it no longer has.
   */
  bind(table: RouteTable): void {
    const bound = new Set<string>();
    for (const route of table.routes.values()) {
      const plan = rolloutPlan(route.key, route.spec);
      if (!plan || route.spec.target.kind !== "model") continue;
      const { weights, sticky } = route.spec.target;
      let rollout = this.rollouts.get(plan.id);
      if (rollout) rollout.replan(plan, sticky);
      else this.rollouts.set(plan.id, (rollout = new Rollout(plan, weights, sticky)));
      route.split = rollout.split;
      route.rollout = rollout;
      bound.add(plan.id);
    }
    for (const [id, rollout] of this.rollouts)
      if (!bound.has(id)) {
        this.rollouts.delete(id);
        this.unpublish(rollout.plan);
      }
  }

  /** Starts syncing every `syncIntervalMs` (a tick without rollouts does nothing, and a reload may add some), and once at once. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.settings.syncIntervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops syncing, adds the last counts to the store and gives the lease up (both best effort). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    if (this.rollouts.size === 0) return;
    await this.flush().catch(() => undefined);
    await this.store.release(this.instance).catch(() => undefined);
  }

  /** One sync (or the one already running): flush counts, hold the lease, read, serve and judge every rollout. */
  tick(): Promise<void> {
    this.ticking ??= this.sync().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** The status of the rollout on `route`, or of every rollout. */
  async status(route?: string): Promise<RolloutStatus[]> {
    const rollouts = route === undefined ? [...this.rollouts.values()] : [this.find(route)];
    return Promise.all(rollouts.map((rollout) => this.statusOf(rollout)));
  }

  /** Pauses, resumes or aborts the rollout on `route` (which may be left out when there is one), through the store. */
  async act(action: RolloutAction, route?: string): Promise<RolloutStatus> {
    const rollout = this.find(route);
    const { id } = rollout.plan;
    const { from, kind } = ACTIONS[action];
    for (let attempt = 0; attempt < 3; attempt++) {
      const state = await this.storeCall(() => this.store.read(id));
      if (!state) throw new ServingError("CONFLICT", "the rollout has not started yet; retry in a moment");
      if (!from.includes(state.phase))
        throw new ServingError("CONFLICT", `the rollout is ${state.phase}; only a ${from.join(" or ")} rollout can ${action}`);
      const observed = await this.storeCall(() => this.store.observations(id, state.epoch));
      const change: Transition = {
        at: this.options.now(),
        kind,
        step: state.step,
        weight: action === "abort" ? 0 : state.weight,
        instance: this.instance,
        reason: `the operator asked to ${action} it`,
        evidence: evidenceOf(rollout.plan, observed),
      };
      const next = afterTransition(state, change);
      if (await this.storeCall(() => this.store.write(id, state.epoch, next))) {
        this.serve(rollout, next);
        return this.statusOf(rollout);
      }
    }
    throw new ServingError("CONFLICT", "the rollout kept changing while this request tried to change it; retry");
  }

  /** The rollout on `route`, or the only one when `route` is undefined. */
  private find(route: string | undefined): Rollout {
    const rollouts = [...this.rollouts.values()];
    if (route === undefined) {
      if (rollouts.length === 1) return rollouts[0];
      if (rollouts.length === 0) throw new ServingError("NOT_FOUND", "no route of this gateway declares a rollout");
      throw new ServingError(
        "INVALID_INPUT",
        `several routes have rollouts; name one with ?route= (${rollouts.map((r) => r.plan.route).join(", ")})`,
      );
    }
    const found = rollouts.find((rollout) => rollout.plan.route === route);
    if (!found) throw new ServingError("NOT_FOUND", "no rollout on that route; GET the rollouts endpoint to list them");
    return found;
  }

  /** Runs a store call for an operator: a failing store answers STORE_UNAVAILABLE (the cause is logged, never sent). */
  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.log.warn({ err: error }, "rollout store failed an operator's request");
      throw new ServingError(
        "STORE_UNAVAILABLE",
        "the rollout state store is unavailable; the gateway keeps serving the last weights it knew",
      );
    }
  }

  private async sync(): Promise<void> {
    if (this.rollouts.size === 0) return;
    try {
      await this.flush();
      this.leader = await this.store.hold(this.instance, this.options.settings.leaseMs);
      for (const rollout of [...this.rollouts.values()]) await this.advance(rollout).catch((error) => this.unreadable(rollout, error));
      if (this.failing) this.log.info("rollout store answers again; rollouts resume");
      this.failing = false;
    } catch (error) {
      this.leader = false;
      // Logged once per outage, not at every tick of it.
      if (!this.failing)
        this.log.warn({ err: error }, "rollout store unavailable; serving the last known weights and judging no step until it answers");
      this.failing = true;
    }
  }

  /**
   * A rollout whose stored state does not parse keeps the weights this
   * instance last served, and nobody judges it: logged once per document, at
   * error level, since only an operator can repair or delete it. Store failures
   * are rethrown for the tick's own handling.
   */
  private unreadable(rollout: Rollout, error: unknown): void {
    if (!(error instanceof RolloutStateError)) throw error;
    if (this.unparsed.get(rollout.plan.id) === error.message) return;
    this.unparsed.set(rollout.plan.id, error.message);
    this.log.error(
      { rollout: rollout.plan.route, err: error },
      "rollout state cannot be read; serving the last known weights until it is repaired or deleted",
    );
  }

  /** Adds every rollout's counts to the store; when it fails they are kept for the next flush. */
  private async flush(): Promise<void> {
    const taken = [...this.rollouts.values()].map((rollout) => [rollout, rollout.take()] as const);
    try {
      await this.store.record(taken.flatMap(([, batches]) => batches));
    } catch (error) {
      for (const [rollout, batches] of taken) rollout.restore(batches);
      throw error;
    }
  }

  /** Reads (or starts) one rollout's state and serves it; the leader judges a progressing step and writes its transition. */
  private async advance(rollout: Rollout): Promise<void> {
    const { plan } = rollout;
    let state = await this.store.read(plan.id);
    if (!state) {
      const start = startState(plan, this.options.now(), this.instance);
      state = (await this.store.write(plan.id, undefined, start)) ? start : await this.store.read(plan.id);
      if (!state) return;
    }
    this.unparsed.delete(plan.id);
    this.serve(rollout, state);
    if (!this.leader || state.phase !== "progressing") return;
    const now = this.options.now();
    const decision = decide(plan, state, await this.store.observations(plan.id, state.epoch), now);
    if (decision.kind === "wait") return;
    const { kind, step, weight, reason, evidence } = decision;
    const next = afterTransition(state, { at: now, kind, step, weight, instance: this.instance, reason, evidence });
    // Written only over the epoch judged and while the lease is this instance's: one transition per step, fleet-wide.
    if (await this.store.write(plan.id, state.epoch, next, this.instance)) this.serve(rollout, next);
  }

  /** Serves `state` on `rollout` when it is new here: weights, gauges, and the log line of a transition this instance made. */
  private serve(rollout: Rollout, state: RolloutState): void {
    const before = rollout.state;
    if (!rollout.apply(state)) return;
    const { plan } = rollout;
    const weights = weightsAt(plan, state.weight);
    this.publish(plan.route, state, weights);
    const last = state.history[state.history.length - 1];
    if (last?.instance !== this.instance) {
      this.log.info({ rollout: plan.route, phase: state.phase, step: state.step, weights, epoch: state.epoch }, "rollout state applied");
      return;
    }
    this.options.metrics.rolloutTransitions.labels(plan.route, last.kind).inc();
    const line = {
      rollout: plan.route,
      transition: last.kind,
      from: before && { step: before.step, weights: weightsAt(plan, before.weight) },
      step: state.step,
      weights,
      reason: last.reason,
      evidence: last.evidence,
      gate: plan.declared.gate,
      instance: this.instance,
    };
    if (last.kind === "rolled-back") this.log.warn(line, `rollout ${last.kind}`);
    else this.log.info(line, `rollout ${last.kind}`);
  }

  /** Sets the step, weight and phase gauges of `route`. */
  private publish(route: string, state: RolloutState, weights: Record<string, number>): void {
    const { rolloutStep, rolloutWeight, rolloutPhase } = this.options.metrics;
    rolloutStep.labels(route).set(state.step);
    for (const [version, weight] of Object.entries(weights)) rolloutWeight.labels(route, version).set(weight);
    for (const phase of PHASES) rolloutPhase.labels(route, phase).set(phase === state.phase ? 1 : 0);
  }

  /** Removes the gauges of a rollout this gateway no longer runs. */
  private unpublish({ route, from, to }: RolloutPlan): void {
    const { rolloutStep, rolloutWeight, rolloutPhase } = this.options.metrics;
    rolloutStep.remove(route);
    for (const version of [from, to]) rolloutWeight.remove(route, version);
    for (const phase of PHASES) rolloutPhase.remove(route, phase);
  }

  private async statusOf(rollout: Rollout): Promise<RolloutStatus> {
    const { plan } = rollout;
    let stale = false;
    let judged: ReturnType<typeof decide> | undefined;
    try {
      const state = await this.store.read(plan.id);
      if (state) {
        this.serve(rollout, state);
        judged = decide(plan, state, await this.store.observations(plan.id, state.epoch), this.options.now());
      }
    } catch {
      stale = true;
    }
    const state = rollout.state;
    const last = state?.history[state.history.length - 1];
    return {
      route: plan.route,
      model: plan.model,
      from: plan.from,
      to: plan.to,
      phase: state?.phase ?? "pending",
      step: state?.step,
      steps: plan.steps,
      weights: state ? weightsAt(plan, state.weight) : weightsAt(plan, 0),
      since: state && new Date(state.since).toISOString(),
      interval: plan.declared.interval,
      gate: plan.declared.gate,
      observed: judged?.evidence,
      waiting: state?.phase === "progressing" && judged?.kind === "wait" ? judged.reason : undefined,
      reason: last?.reason,
      history: state?.history ?? [],
      store: this.store.kind,
      stale,
      leader: this.leader,
    };
  }
}
