/**
 * `cloudloom rollout status|pause|resume|abort`: a running gateway's
 * rollouts, through its rollout endpoints, with the admin key from the
 * environment (never a flag, which shell history and `ps` would keep).
 */
import { ROLLOUTS_PATH, RUNTIME_ENV, type RolloutStatus } from "../../gateway";
import { UsageError, type CommandIo } from "../io";

/** Where the gateway is when --gateway is not given. */
const GATEWAY_URL_ENV = "CLOUDLOOM_GATEWAY_URL";
const DEFAULT_GATEWAY = "http://127.0.0.1:8080";
/** Subcommands: status reads, the others act. */
const SUBCOMMANDS = ["status", "pause", "resume", "abort"] as const;

/** Usage text of the rollout command. */
export const ROLLOUT_USAGE = `cloudloom rollout status|pause|resume|abort [--route "<METHOD> /path"] [--gateway URL] [--json]

Shows or steers the progressive rollouts of a running gateway (docs/rollouts.md):
  status   each rollout's phase, step, weights, what the step observed so far, and its history
  pause    holds the current weights; no step is judged until resume
  resume   restarts the paused step's interval and counts
  abort    sends all traffic back to the version being replaced, for good

--route picks the rollout's route; it may be left out when the gateway runs one.
--gateway is the gateway's base URL (default: $${GATEWAY_URL_ENV}, else ${DEFAULT_GATEWAY}).
The admin key is read from $${RUNTIME_ENV.adminKey}.

Exit codes: 0 done, 1 the gateway refused (wrong key, no such rollout, an action
the rollout's phase does not allow) or could not be reached, 2 usage error.`;

/** Options of the rollout command. */
export interface RolloutArgs {
  subcommand: string;
  route?: string;
  gateway?: string;
  json?: boolean;
}

/** Runs the rollout command. */
export async function rolloutCommand(args: RolloutArgs, io: CommandIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!(SUBCOMMANDS as readonly string[]).includes(args.subcommand))
    throw new UsageError(`unknown rollout subcommand "${args.subcommand}"; try: ${SUBCOMMANDS.join(", ")}`);
  const key = env[RUNTIME_ENV.adminKey]?.trim();
  if (!key) throw new UsageError(`set ${RUNTIME_ENV.adminKey} to the gateway's admin key`);
  const base = args.gateway ?? env[GATEWAY_URL_ENV] ?? DEFAULT_GATEWAY;
  let url: URL;
  try {
    url = new URL(`${ROLLOUTS_PATH}${args.subcommand === "status" ? "" : `/${args.subcommand}`}`, base);
  } catch {
    throw new UsageError(`--gateway ${base} is not a URL; give the gateway's base URL, e.g. ${DEFAULT_GATEWAY}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--gateway ${base} is not an http(s) URL`);
  if (args.route !== undefined) url.searchParams.set("route", args.route);

  let response: Response;
  try {
    response = await fetch(url, {
      method: args.subcommand === "status" ? "GET" : "POST",
      headers: { "x-admin-key": key },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    io.err(`cannot reach the gateway at ${url.origin}: ${(error as Error).message}\n`);
    return 1;
  }
  const body = (await response.json().catch(() => undefined)) as
    { rollouts?: RolloutStatus[]; rollout?: RolloutStatus; error?: { code: string; message: string } } | undefined;
  if (!response.ok || !body || body.error) {
    const reason = body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`;
    io.err(`the gateway refused: ${reason}\n`);
    return 1;
  }
  const rollouts = body.rollouts ?? (body.rollout ? [body.rollout] : []);
  io.out(args.json ? `${JSON.stringify(rollouts, null, 2)}\n` : rollouts.map(describe).join("\n"));
  return 0;
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;

/** A rollout as a few readable lines. */
export function describe(status: RolloutStatus): string {
  const weights = Object.entries(status.weights)
    .map(([version, weight]) => `${version}=${weight}%`)
    .join(" ");
  const step = status.step === undefined ? "" : `, step ${status.step}/${status.steps.length}`;
  const lines = [
    `${status.route}: ${status.model} ${status.from} -> ${status.to}, ${status.phase}${step}, weights ${weights}${status.stale ? " (store unreachable: last known)" : ""}`,
    `  steps ${status.steps.join(" -> ")} every ${status.interval}; gate ${Object.entries(status.gate)
      .map(([name, value]) => `${name} ${value}`)
      .join(", ")}`,
  ];
  if (status.since) lines.push(`  since ${status.since}`);
  for (const [version, seen] of Object.entries(status.observed ?? {}))
    lines.push(
      `  ${version}: ${seen.requests} requests, ${percent(seen.errorRate)} errors, p99 ${seen.p99Ms === undefined ? "-" : `${seen.p99Ms} ms`}`,
    );
  if (status.waiting) lines.push(`  waiting: ${status.waiting}`);
  for (const transition of status.history)
    lines.push(
      `  ${new Date(transition.at).toISOString()} ${transition.kind} (step ${transition.step}, ${transition.weight}%)${transition.reason ? `: ${transition.reason}` : ""}`,
    );
  return `${lines.join("\n")}\n`;
}
