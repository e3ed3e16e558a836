/**
 * `cloudloom serve`: the gateway on the embedded local target, the gateway
 * in front of a deployed stack's endpoints, or one entry as a cluster pod.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DASHBOARD_PATH, NOT_DURABLE_WARNING, parseEndpoints, parseSettings, type GatewaySettings } from "../../gateway";
import {
  jwtRequirementFromEnv,
  keepHeapHeadroom,
  loadAlicloudSecrets,
  PodServer,
  INVOCATIONS_PATH,
  RUNTIME_ENV,
  SAGEMAKER_MODEL_DIR,
  sampleSize,
  TracingConfigError,
  tracingFromEnv,
  type Tracing,
  type DemandReportTarget,
  type JwtRequirement,
  type RuntimeScope,
} from "../../runtime";
import { apiKeysFrom, cliLogger, composeGateway, type ComposedGateway } from "../compose-gateway";
import { remoteQueues, type RemoteQueues } from "../remote-queues";
import { LocalTarget } from "../local-target";
import { formatProblems, routeAsync, validate, type SpecV1 } from "../../sdk";
import { EndpointSchema, type Endpoint } from "../../sdk/spec";
import { loadApp } from "../../sdk/load-app";
import { UsageError, type CommandIo } from "../io";

/** Usage text of the serve command. */
export const SERVE_USAGE = `cloudloom serve [<app>] [--port N] [--host H] [--config FILE] [--redis URL]
cloudloom serve --spec FILE --endpoints FILE [--config FILE]
cloudloom serve --spec FILE [--root DIR] --only model:<name@version>|function:<name>
                [--region R] [--artifact PATH] [--model-url <name@version>=<url>|<endpoint JSON> ...]

1. Serves the app on the embedded local target: the gateway pipeline in front
   of functions in-process and models on onnxruntime-node. <app> defaults to
   examples/support-desk; the port to $PORT or 8080.
2. With --spec and --endpoints, runs the gateway in front of a deployed
   stack's endpoints (write the file with \`cloudloom gateway config\`).
   SIGHUP reloads both files without dropping requests.
3. With --spec and --only, serves one entry in one region, as a cluster pod:
   a model at POST /_cloudloom/models/<name@version>, a function at
   POST /_cloudloom/functions/<name>, calling its models at --model-url
   (a URL, or an endpoint as JSON, {"url":..,"jwt":{"issuer":..,"audience":..}},
   whose JWT it signs with CLOUDLOOM_JWT_PRIVATE_KEY).
4. As a SageMaker model container (\`serve\` with CLOUDLOOM_SAGEMAKER_MODEL set
   to <name@version>): reads spec.json and model.onnx from /opt/ml/model and
   answers GET /ping and POST /invocations on port 8080.

--config FILE is a JSON file of gateway settings (API keys, trusted proxy
hops, locality, Redis, limits). --redis URL (or CLOUDLOOM_REDIS_URL) is the
Redis the gateway shares limits, cache and idempotency keys in; on the local
target, asynchronous routes queue there too (BullMQ, durable). Without it
they queue in the process's memory, which serve says at startup and in
/readyz: such jobs are lost when it stops. API keys also come from CLOUDLOOM_API_KEYS;
serve warns at startup when api-key routes have none to accept.
Stops cleanly on SIGINT/SIGTERM, finishing in-flight requests. SIGHUP reloads
the gateway of a deployed stack; the local target and a pod log it and go on.
Logs are JSON lines, or readable lines when stdout is a terminal
(LOG_FORMAT=json|pretty to choose, LOG_LEVEL for the level).
Traces go to the OTLP/HTTP collector that "tracing" in --config or
OTEL_EXPORTER_OTLP_ENDPOINT names (docs/tracing.md); with none, tracing is off.

Exit codes: 0 stopped cleanly, 1 the app or spec has problems, 2 usage error
(a port in use, a config or endpoints file that cannot be read or is invalid,
a missing credential).`;

/** Options of the serve command, as given on the command line. */
export interface ServeArgs {
  app?: string;
  spec?: string;
  endpoints?: string;
  config?: string;
  /** The Redis URL (`--redis`), over CLOUDLOOM_REDIS_URL. */
  redis?: string;
  root?: string;
  only?: string;
  region?: string;
  artifact?: string;
  modelUrls: string[];
  port: number;
  host: string;
}

/** Something that listens and closes. */
interface Listener {
  listen(port: number, host: string): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${what} ${file} cannot be read as JSON: ${oneLine((error as Error).message)}`);
  }
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, "; ");

/** Runs `parse`, turning a gateway configuration error into one line naming the file and every field at fault. */
function parsed<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const problems = (error as { code?: string; problems?: Array<{ path: string; message: string }> }).problems;
    if ((error as { code?: string }).code !== "CL_GATEWAY_CONFIG" || !problems) throw error;
    throw new UsageError(`${file} is not valid: ${problems.map((p) => `${p.path || "(root)"}: ${oneLine(p.message)}`).join("; ")}`);
  }
}

/** Listens, turning a port in use (or one not allowed) into one line. */
async function listening<T>(what: string, port: number, host: string, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new UsageError(
        `cannot serve ${what}: port ${port} on ${host} is already in use; stop what listens there, or pick another port with --port (or PORT)`,
      );
    if (code === "EACCES")
      throw new UsageError(
        `cannot serve ${what}: listening on port ${port} on ${host} is not permitted; pick a port above 1023 with --port (or PORT)`,
      );
    if (code === "EADDRNOTAVAIL")
      throw new UsageError(`cannot serve ${what}: ${host} is not an address of this machine; pick another with --host`);
    throw error;
  }
}

/**
 * What SIGHUP does. The handler is installed as soon as serve starts, so a
 * hangup never kills it (Node's default for SIGHUP is to exit): the remote
 * gateway reloads, the local target and a pod log that they keep serving.
 */
class Hangup {
  handle: () => void = () => undefined;
  private readonly listener = () => this.handle();
  constructor() {
    process.on("SIGHUP", this.listener);
  }
  remove(): void {
    process.off("SIGHUP", this.listener);
  }
}

function readSpec(file: string): SpecV1 | { problems: string } {
  const result = validate(readJson(file, "spec file"));
  return result.ok ? result.spec : { problems: formatProblems(result.problems) };
}

/** A `--model-url` value: a URL, or an endpoint written as JSON (`{"url":..,"jwt":{..}}`). */
export function modelEndpoint(key: string, value: string): Endpoint {
  if (!value.startsWith("{")) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new UsageError(`--model-url ${key}: the endpoint is not JSON`);
  }
  const endpoint = EndpointSchema.safeParse(parsed);
  if (!endpoint.success || typeof endpoint.data === "string")
    throw new UsageError(`--model-url ${key}: write the endpoint as {"url":"http://...","jwt":{"issuer":"...","audience":"..."}}`);
  return endpoint.data;
}

/** Reads a pod server's spec and scope, refusing what does not fit. */
export function loadScoped(
  args: Pick<ServeArgs, "spec" | "root" | "only" | "region" | "artifact" | "modelUrls">,
): { spec: SpecV1; root: string; scope: RuntimeScope & { only: NonNullable<RuntimeScope["only"]> } } | { problems: string } {
  const spec = readSpec(args.spec!);
  if ("problems" in spec) return spec;
  const [kind, name] = (args.only ?? "").split(/:(.*)/s);
  if ((kind !== "model" && kind !== "function") || !name) throw new UsageError("--only must be model:<name@version> or function:<name>");
  const entries = kind === "model" ? spec.models : spec.functions;
  if (!Object.hasOwn(entries, name))
    throw new UsageError(`--only ${args.only}: the spec declares no ${kind} "${name}"; it has: ${Object.keys(entries).join(", ")}`);
  if (args.region && !Object.hasOwn(spec.regions, args.region))
    throw new UsageError(`--region ${args.region}: the spec declares no such region`);
  const remoteModels = Object.fromEntries(
    args.modelUrls.map((pair) => {
      const at = pair.indexOf("=");
      if (at <= 0) throw new UsageError(`--model-url ${pair}: write it as <name@version>=<url>`);
      return [pair.slice(0, at), modelEndpoint(pair.slice(0, at), pair.slice(at + 1))];
    }),
  );
  return {
    spec,
    root: resolve(args.root ?? "."),
    scope: { only: { kind, name }, region: args.region, artifact: args.artifact && resolve(args.artifact), remoteModels },
  };
}

/**
 * Settings for a gateway deployed in spec region `region` (`CLOUDLOOM_REGION`):
 * in an edge region, requests that name no locality take the region's own, so
 * its clients are served from its backends first and fail over to central. A
 * `locality.home` the settings file sets wins.
 */
export function withHomeLocality(settings: GatewaySettings, spec: SpecV1, region: string | undefined): GatewaySettings {
  const placed = region === undefined ? undefined : spec.regions[region];
  if (settings.locality.home || placed?.kind !== "edge" || !placed.localities?.[0]) return settings;
  return { ...settings, locality: { ...settings.locality, home: placed.localities[0] } };
}

/**
 * The gateway's settings: the config file's (or the defaults), with the Redis
 * URL of `--redis`, else `CLOUDLOOM_REDIS_URL`, when set. The URL carries
 * Redis's password, so a deployed gateway gets it from a Secret in its
 * environment, never from a file; errors name the field, never the URL.
 */
export function gatewaySettingsFrom(args: Pick<ServeArgs, "config" | "redis">, env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const source = args.config ? `config file ${args.config}` : "gateway settings";
  return parsed(source, () => {
    const raw = (args.config ? readJson(args.config, "config file") : {}) as Record<string, unknown> | null;
    const redisUrl = args.redis ?? env[RUNTIME_ENV.redisUrl];
    const settings = redisUrl && raw && typeof raw === "object" ? { ...raw, redis: { ...(raw.redis as object), url: redisUrl } } : raw;
    return parseSettings(settings, source);
  });
}

/** Where a pod reports its calls to models that hold (both variables set by the provider), else nowhere. */
export function demandReportFrom(env: NodeJS.ProcessEnv): DemandReportTarget | undefined {
  const url = env[RUNTIME_ENV.demandReportUrl]?.trim();
  const token = env[RUNTIME_ENV.demandToken]?.trim();
  return url && token ? { url, token } : undefined;
}

/** The warning `serve` prints when routes need an API key and none is configured (each would answer 401). */
export function noApiKeysWarning(spec: SpecV1, apiKeys: readonly string[]): string | undefined {
  const keyed = Object.entries(spec.routes).filter(([, route]) => route.auth === "api-key");
  if (keyed.length === 0 || apiKeys.length > 0) return undefined;
  return (
    `warning: no API keys are configured, so the ${keyed.length} api-key route(s) (${keyed.map(([key]) => key).join(", ")}) ` +
    `will answer 401 to every request; set ${RUNTIME_ENV.apiKeys} or "apiKeys" in --config\n`
  );
}

/**
 * The warning `serve` prints in front of remote endpoints when neither a metrics token nor an admin
 * key is configured: `/metrics` and `/metrics/demand` would then answer 401 to Prometheus and KEDA.
 */
export function noMetricsTokenWarning(settings: GatewaySettings, env: NodeJS.ProcessEnv): string | undefined {
  if (settings.metricsToken || settings.adminKey || env[RUNTIME_ENV.metricsToken]?.trim() || env[RUNTIME_ENV.adminKey]?.trim())
    return undefined;
  return (
    `warning: no metrics token is configured, so /metrics and /metrics/demand will answer 401 to every request ` +
    `(Prometheus's scrapes, KEDA's triggers); set ${RUNTIME_ENV.metricsToken} or "metricsToken" in --config\n`
  );
}

/** A ready-to-paste request body for a route. */
function exampleBody(spec: SpecV1, root: string, routeKey: string): unknown {
  const target = spec.routes[routeKey].target;
  if (target.kind === "function") {
    const handler = spec.functions[target.name].handler;
    return (require(resolve(root, handler.module)) as { example?: unknown }).example ?? {};
  }
  const [version] = Object.keys(target.weights);
  const inputs = spec.models[`${target.name}@${version}`].signature.inputs;
  return { inputs: Object.fromEntries(Object.entries(inputs).map(([name, tensor]) => [name, new Array(sampleSize(tensor)).fill(0)])) };
}

/** Settings with a generated key when the app has keyed routes and none was configured. */
function withDevKey(settings: GatewaySettings, spec: SpecV1): { settings: GatewaySettings; devKey?: string } {
  const keyed = Object.values(spec.routes).some((route) => route.auth === "api-key");
  if (!keyed || settings.apiKeys.length > 0 || process.env[RUNTIME_ENV.apiKeys]) return { settings };
  const devKey = `dev-${randomBytes(16).toString("hex")}`;
  return { settings: { ...settings, apiKeys: [devKey] }, devKey };
}

function printRoutes(io: CommandIo, spec: SpecV1, root: string, base: string, key: string): void {
  io.out(`\nRoutes:\n`);
  for (const [routeKey, route] of Object.entries(spec.routes)) {
    const [method, path] = routeKey.split(" ");
    const auth = route.auth === "api-key" ? ` -H 'authorization: Bearer ${key}'` : "";
    const body = `-d '${JSON.stringify(exampleBody(spec, root, routeKey))}'`;
    if (!routeAsync(spec, routeKey)) {
      io.out(
        `  ${routeKey}\n    curl -s -X ${method} ${base}${path} -H 'content-type: application/json'${auth} -H 'x-cloudloom-locality: de' ${body}\n`,
      );
      continue;
    }
    // An asynchronous route answers 202 with the invocation's id; the second line reads it back by that id.
    io.out(
      `  ${routeKey} (asynchronous: answers 202 with {"id": ...}; read the invocation back with the second line)\n` +
        `    curl -s -X ${method} ${base}${path} -H 'content-type: application/json'${auth} -H 'idempotency-key: first-try' ${body}\n` +
        `    curl -s ${base}${INVOCATIONS_PATH}/<id>${auth}\n`,
    );
  }
  io.out(
    `\nDashboard: ${base}${DASHBOARD_PATH}   (open from this machine; from elsewhere it needs the admin key)\n` +
      `  curl -sN ${base}${DASHBOARD_PATH}/events   # the numbers it shows, as Server-Sent Events\n`,
  );
  io.out(`\nMetrics: ${base}/metrics   Health: ${base}/healthz\nPress Ctrl-C to stop.\n`);
}

async function serveApp(args: ServeArgs, io: CommandIo, hangup: Hangup): Promise<number> {
  const app = loadApp(args.app ?? "examples/support-desk");
  const problems = app.problems();
  if (problems.length > 0) {
    io.err(`app "${app.name}" has ${problems.length} problem(s):\n${formatProblems(problems)}\n`);
    return 1;
  }
  const spec = app.toDraft();
  const { settings, devKey } = withDevKey(gatewaySettingsFrom(args), spec);
  const logger = cliLogger();
  const target = new LocalTarget({ spec, root: app.root, settings, logger });
  hangup.handle = () =>
    logger.info("SIGHUP: the local target has nothing to reload (restart serve to pick up changes to the app); still serving");
  const address = await listening(`"${spec.app}"`, args.port, args.host, () => target.listen(args.port, args.host));
  const base = `http://${address.address}:${address.port}`;
  io.out(`cloudloom: serving "${spec.app}" on ${base} (local target)\n`);
  if (target.queues.size > 0)
    io.out(
      target.queues.durable
        ? `Asynchronous routes queue in Redis (BullMQ): jobs survive a restart.\n`
        : `warning: ${NOT_DURABLE_WARNING}\n`,
    );
  if (target.queues.size > 0 && !target.queues.durable) logger.warn(NOT_DURABLE_WARNING);
  if (devKey) io.out(`API key for this run (set CLOUDLOOM_API_KEYS to choose your own): ${devKey}\n`);
  printRoutes(io, spec, app.root, base, devKey ?? "<your key>");
  await untilSignal(target, io);
  return 0;
}

async function serveRemote(args: ServeArgs, io: CommandIo, hangup: Hangup, env: NodeJS.ProcessEnv): Promise<number> {
  // On Alibaba Cloud the gateway's JWT key lives in KMS; its name is in the environment, and the key is read
  // into the environment here, at start, with the function's own role. Elsewhere this does nothing.
  try {
    await loadAlicloudSecrets(env);
  } catch (error) {
    throw new UsageError(`cannot read the gateway's secrets from KMS: ${oneLine((error as Error).message)}`);
  }
  const load = () => {
    const spec = readSpec(args.spec!);
    if ("problems" in spec) throw new UsageError(`${args.spec} has problems:\n${spec.problems}`);
    const file = args.endpoints!;
    return {
      spec,
      source: {
        kind: "remote" as const,
        endpoints: parsed(`endpoints file ${file}`, () => parseEndpoints(readJson(file, "endpoints file"), spec, `endpoints file ${file}`)),
      },
    };
  };
  let latest = load();
  const { spec, source } = latest;
  const settings = withHomeLocality(gatewaySettingsFrom(args, env), spec, env[RUNTIME_ENV.region]);
  const logger = cliLogger(env);
  const queues = remoteQueues(() => ({ spec: latest.spec, endpoints: latest.source.endpoints }), settings, logger, env);
  let composed: ComposedGateway;
  try {
    composed = withQueues(
      composeGateway({ spec, settings, source, env, logger, queues: queues.queueFor, reloadFrom: async () => (latest = load()) }),
      queues,
    );
  } catch (error) {
    // A configuration the gateway refuses must not leave queue connections open behind it.
    await queues.close();
    throw error;
  }
  const { gateway } = composed;
  hangup.handle = () => {
    gateway.log.info("SIGHUP: reloading the spec and endpoints");
    void gateway.reloadFromSource().catch((error) => gateway.log.error({ err: error }, "reload failed; the previous configuration stays"));
  };
  for (const warning of [noApiKeysWarning(spec, apiKeysFrom(settings, env)), noMetricsTokenWarning(settings, env)])
    if (warning) {
      io.err(warning);
      gateway.log.warn(warning.trim());
    }
  let address: { address: string; port: number };
  try {
    address = await listening(`the gateway for "${spec.app}"`, args.port, args.host, () => gateway.listen(args.port, args.host));
  } catch (error) {
    await composed.close();
    throw error;
  }
  io.out(
    `cloudloom: gateway for "${spec.app}" on http://${address.address}:${address.port} (${Object.keys(spec.routes).length} routes; SIGHUP reloads)\n` +
      `Dashboard: http://${address.address}:${address.port}${DASHBOARD_PATH} (send the admin key as x-admin-key)\n` +
      `Metrics: http://${address.address}:${address.port}/metrics (send the metrics token as Authorization: Bearer, or the admin key)\n`,
  );
  await untilSignal(composed, io);
  return 0;
}

/** A composed gateway that also closes its queues once it has closed. */
function withQueues(composed: ComposedGateway, queues: RemoteQueues): ComposedGateway {
  return {
    ...composed,
    async close() {
      await composed.close();
      await queues.close();
    },
  };
}

/**
 * The arguments of a SageMaker model container, from its environment:
 * SageMaker starts the image with `serve` and no other arguments.
 */
export function sagemakerArgs(env: NodeJS.ProcessEnv, modelDir = SAGEMAKER_MODEL_DIR): ServeArgs | undefined {
  const model = env[RUNTIME_ENV.sagemakerModel];
  if (!model) return undefined;
  return {
    spec: `${modelDir}/spec.json`,
    only: `model:${model}`,
    region: env[RUNTIME_ENV.region],
    artifact: `${modelDir}/model.onnx`,
    root: modelDir,
    modelUrls: [],
    port: 8080,
    host: "0.0.0.0",
  };
}

/**
 * Replaces `{version}` in a pod's arguments with `CLOUDLOOM_MODEL_VERSION`:
 * one FC function serves each model version from its own published version,
 * whose environment names it.
 */
export function withModelVersion(args: ServeArgs, env: NodeJS.ProcessEnv): ServeArgs {
  const fields = ["spec", "only", "artifact", "root"] as const;
  if (!fields.some((field) => args[field]?.includes("{version}"))) return args;
  const version = env[RUNTIME_ENV.modelVersion];
  if (!version)
    throw new UsageError(`the arguments name {version}, so ${RUNTIME_ENV.modelVersion} must be set to the model version to serve`);
  return { ...args, ...Object.fromEntries(fields.map((field) => [field, args[field]?.replaceAll("{version}", version)])) };
}

async function servePod(args: ServeArgs, io: CommandIo, env: NodeJS.ProcessEnv, hangup: Hangup, sagemaker = false): Promise<number> {
  // On an Alibaba ENS instance the JWT key and a function's secrets live in KMS, named in the environment; elsewhere this does nothing.
  try {
    await loadAlicloudSecrets(env);
  } catch (error) {
    throw new UsageError(`cannot read the pod's secrets from KMS: ${oneLine((error as Error).message)}`);
  }
  const pod = withModelVersion(args, env);
  const loaded = loadScoped(pod);
  if ("problems" in loaded) {
    io.err(`${pod.spec} has problems:\n${loaded.problems}\n`);
    return 1;
  }
  let jwt: JwtRequirement | undefined;
  try {
    jwt = jwtRequirementFromEnv(env);
  } catch (error) {
    throw new UsageError(oneLine((error as Error).message));
  }
  const logger = cliLogger(env);
  const tracing = podTracing(env, loaded.spec.app, loaded.scope.only.name, logger);
  const server = new PodServer({
    ...loaded,
    sagemaker,
    jwt,
    logger,
    workload: env[RUNTIME_ENV.workload],
    tracer: tracing?.tracer,
    queueRedisUrl: env[RUNTIME_ENV.redisUrl],
    queueTimings: queueTimingsFrom(env),
    demandReport: demandReportFrom(env),
  });
  const stop = { close: () => server.close().finally(() => tracing?.shutdown()) };
  hangup.handle = () => logger.info(`SIGHUP: a pod has nothing to reload (its spec and artifact are fixed); still serving ${pod.only}`);
  try {
    const address = await listening(pod.only!, args.port, args.host, () => server.listen(args.port, args.host));
    io.out(`cloudloom: serving ${pod.only} on http://${address.address}:${address.port}\n`);
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  await untilSignal(stop, io);
  return 0;
}

/** A pod's tracing, from the OTEL_* variables its workload was given; a value it cannot use is a usage error naming the variable. */
function podTracing(env: NodeJS.ProcessEnv, app: string, entry: string, logger: { warn(message: string): void }): Tracing | undefined {
  try {
    return tracingFromEnv(env, `cloudloom-${entry}`, { attributes: { "cloudloom.app": app }, warn: (message) => logger.warn(message) });
  } catch (error) {
    if (error instanceof TracingConfigError) throw new UsageError(`cannot trace ${entry}: ${error.message}`);
    throw error;
  }
}

/** A pod's queue worker timings from `CLOUDLOOM_QUEUE_LOCK_MS` (BullMQ's defaults without it). */
export function queueTimingsFrom(env: NodeJS.ProcessEnv): { lockDurationMs?: number; stalledIntervalMs?: number } {
  const raw = env[RUNTIME_ENV.queueLockMs];
  if (raw === undefined || raw === "") return {};
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100 || ms > 600_000)
    throw new UsageError(`${RUNTIME_ENV.queueLockMs} is ${raw}: give the lock duration in milliseconds, from 100 to 600000`);
  return { lockDurationMs: ms, stalledIntervalMs: ms };
}

/** Runs the right server for the arguments until a signal stops it. */
export async function serveCommand(args: ServeArgs, io: CommandIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  keepHeapHeadroom(); // a server from here on, in every mode
  const sagemaker = !args.spec && !args.app ? sagemakerArgs(env) : undefined;
  if (!sagemaker && !(args.spec && (args.only || args.endpoints)) && (args.spec || args.endpoints))
    throw new UsageError("--spec needs --endpoints (a gateway) or --only (a pod)");
  const hangup = new Hangup();
  try {
    if (sagemaker) return await servePod(sagemaker, io, env, hangup, true);
    if (args.spec && args.only) return await servePod(args, io, env, hangup);
    if (args.spec && args.endpoints) return await serveRemote(args, io, hangup, env);
    return await serveApp(args, io, hangup);
  } finally {
    hangup.remove();
  }
}

function untilSignal(server: Pick<Listener, "close">, io: CommandIo): Promise<void> {
  return new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      io.out(`\n${signal}: finishing in-flight requests...\n`);
      void server.close().then(resolveStop);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
