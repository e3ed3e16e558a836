/**
 * Runs the pods of rendered Kubernetes manifests (`cloudloom plan --out`) as
 * local processes, as close to a cluster as one machine gets without one:
 *
 * - every Deployment and StatefulSet becomes one pod with its own pod IP on
 *   loopback (127.0.0.10, .11, …) and its container port mapped to a free
 *   port, so a server that listens on 127.0.0.1 only is as unreachable from
 *   the probe and from other pods as it would be in the cluster;
 * - its env comes from the manifests (values, and `secretKeyRef` /
 *   `configMapKeyRef` / `envFrom` resolved from the rendered Secrets and
 *   ConfigMaps: a missing Secret, ConfigMap or key is the kubelet's
 *   CreateContainerConfigError); its volumes (ConfigMaps, emptyDirs) are
 *   directories, and the container paths in arguments, env and files are
 *   rewritten to them, `/app` to the app's directory;
 * - Service DNS names (`<svc>.<ns>.svc.cluster.local`, …) become the pod IP
 *   and port of the pod the Service selects;
 * - init containers run their own `sh -c` command, with `wget` (and `aws`,
 *   `ossutil`) copying the model's local artifact, so the sha256 check is real;
 * - a runtime image container runs `node cli/bin.js <args>`; a Redis image runs
 *   the real `redis-server`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { CONTAINER_PORT, RUNTIME_ENV } from "../../runtime/contract";

const repo = join(__dirname, "..", "..");

/** A manifest as rendered. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: any;
}

/** `cloudloom plan <app> --target kubernetes --out <dir>`, as a user runs it; returns the manifests written. */
export function renderManifests(app: string, out: string): Manifest[] {
  const run = spawnSync(process.execPath, [join(repo, "cli", "bin.js"), "plan", app, "--target", "kubernetes", "--out", out], {
    cwd: repo,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`plan --out failed (${run.status}):\n${run.stderr}`);
  const file = /wrote (\S+\.yaml)/.exec(run.stderr)?.[1];
  if (!file) throw new Error(`plan --out wrote no manifests:\n${run.stderr}`);
  return yaml.loadAll(readFileSync(file, "utf8")).filter(Boolean) as Manifest[];
}

/** A Secret value the offline plan cannot know (redacted or a marked placeholder): the test fills it. */
export function isPlaceholder(value: string): boolean {
  return value === "" || /^<[^>]*>$/.test(value) || /placeholder|set (it )?at deploy|change.?me|replace.?me/i.test(value);
}

/** A free TCP port on every interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "0.0.0.0", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One emulated pod. */
export interface Pod {
  workload: Manifest;
  name: string;
  ip: string;
  /** Container port → local port. */
  ports: Map<number, number>;
  /** The main container's process and its output. */
  process?: ChildProcess;
  log: string;
  /** Why the pod could not start, as the kubelet would say. */
  problem?: string;
  /** Each container's readiness probe, when it has one. */
  probes: Array<{ container: string; check: () => Promise<string | undefined> }>;
}

/** Options of a run. */
export interface RunOptions {
  /** The app's directory: what the image has under /app. */
  appDir: string;
  /** Local files of artifacts, by the URL path suffix `<name>/<version>/model.onnx`. */
  artifacts: Record<string, string>;
  /** Values for Secret keys the plan leaves as placeholders, by env variable name (a default fills the rest). */
  secretValues: Record<string, string>;
}

const RUNTIME_IMAGE = /(^|\/)cloudloom\/runtime(:|@|$)/;
const REDIS_IMAGE = /(^|\/)redis(:|@|$)|valkey/;

/** The pods of every Deployment and StatefulSet in `manifests`, started. */
export class RenderedPods {
  readonly pods: Pod[] = [];
  readonly tmp = mkdtempSync(join(tmpdir(), "cloudloom-pods-"));
  private readonly secrets = new Map<string, Record<string, string>>();
  private readonly configMaps = new Map<string, Record<string, string>>();
  private readonly services: Manifest[];
  private readonly children: ChildProcess[] = [];
  /** Values the test gave Secret keys the plan left as placeholders. */
  private readonly filled = new Map<string, string>();

  constructor(
    readonly manifests: Manifest[],
    private readonly options: RunOptions,
  ) {
    for (const m of manifests) {
      if (m.kind === "Secret") {
        const data = Object.fromEntries(Object.entries(m.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), "base64").toString()]));
        this.secrets.set(key(m), { ...data, ...(m.stringData ?? {}) });
      }
      if (m.kind === "ConfigMap") this.configMaps.set(key(m), { ...(m.data ?? {}) });
    }
    this.services = manifests.filter((m) => m.kind === "Service");
  }

  /** Assigns pod IPs and ports, then starts every pod (init containers first). */
  async start(): Promise<void> {
    const workloads = this.manifests.filter((m) => m.kind === "Deployment" || m.kind === "StatefulSet");
    for (const [i, workload] of workloads.entries()) {
      const ports = new Map<number, number>();
      for (const container of workload.spec.template.spec.containers ?? [])
        for (const port of container.ports ?? []) ports.set(port.containerPort, await freePort());
      this.pods.push({ workload, name: workload.metadata.name, ip: `127.0.0.${10 + i}`, ports, log: "", probes: [] });
    }
    for (const pod of this.pods) {
      try {
        await this.startPod(pod);
      } catch (error) {
        pod.problem = (error as Error).message;
      }
    }
  }

  /** Polls every readiness probe until it passes or `timeoutMs` ends; returns what still fails, by pod. */
  async waitReady(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const failing = new Map<string, string>();
    for (const pod of this.pods) if (pod.problem) failing.set(pod.name, pod.problem);
    let pending = this.pods.filter((p) => !p.problem).flatMap((pod) => pod.probes.map((probe) => ({ pod, probe })));
    while (pending.length > 0) {
      const results = await Promise.all(pending.map(async (p) => ({ ...p, failure: await p.probe.check() })));
      pending = results.filter((r) => r.failure !== undefined);
      for (const r of results) {
        const id = `${r.pod.name}/${r.probe.container}`;
        if (r.failure === undefined) failing.delete(id);
        else failing.set(id, `readiness probe failed: ${r.failure}`);
      }
      const exited = pending.filter((p) => p.pod.process?.exitCode !== null && p.pod.process?.exitCode !== undefined);
      for (const p of exited)
        failing.set(`${p.pod.name}/${p.probe.container}`, `exited with ${p.pod.process!.exitCode}:\n${tail(p.pod.log)}`);
      pending = pending.filter((p) => !exited.includes(p));
      if (pending.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // A pod still not ready at the deadline says what it printed, as `kubectl logs` would.
    for (const p of pending)
      failing.set(`${p.pod.name}/${p.probe.container}`, `${failing.get(`${p.pod.name}/${p.probe.container}`)}\n${tail(p.pod.log)}`);
    return [...failing].map(([id, why]) => `${id}: ${why}`);
  }

  /** The base URL of a Service, as a pod would reach it. */
  serviceUrl(name: string): string {
    const service = this.services.find((s) => s.metadata.name === name);
    if (!service) throw new Error(`no Service ${name}`);
    return `http://${this.serviceAddress(service, service.spec.ports[0].port)}`;
  }

  /** Stops every process and removes the temporary files. */
  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
            child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
    rmSync(this.tmp, { recursive: true, force: true });
  }

  private serviceAddress(service: Manifest, port: number): string {
    const selector: Record<string, string> = service.spec.selector ?? {};
    const pod = this.pods.find((p) => {
      const labels = p.workload.spec.template.metadata?.labels ?? {};
      return Object.entries(selector).every(([k, v]) => labels[k] === v);
    });
    if (!pod) throw new Error(`Service ${service.metadata.name} selects no pod`);
    const servicePort = (service.spec.ports ?? []).find((p: { port: number }) => p.port === port) ?? service.spec.ports[0];
    const target = typeof servicePort.targetPort === "number" ? servicePort.targetPort : servicePort.port;
    const local = pod.ports.get(target) ?? [...pod.ports.values()][0];
    return `${pod.ip}:${local}`;
  }

  /** Rewrites Service DNS names (with the Service's port, or none: the first) to pod addresses. */
  private rewriteHosts(text: string): string {
    let out = text;
    for (const service of this.services) {
      const ns = service.metadata.namespace ?? "default";
      const name = escape(service.metadata.name);
      const host = `${name}(?:\\.${escape(ns)}(?:\\.svc(?:\\.cluster\\.local)?)?)?`;
      out = out.replace(new RegExp(`(//|@|^)${host}(?::(\\d+))?(?=[/"'\\s,?]|$)`, "gm"), (_m, lead: string, port?: string) => {
        const servicePort = port ? Number(port) : service.spec.ports[0].port;
        return `${lead}${this.serviceAddress(service, servicePort)}`;
      });
    }
    return out;
  }

  private async startPod(pod: Pod): Promise<void> {
    const spec = pod.workload.spec.template.spec;
    const ns = pod.workload.metadata.namespace ?? "default";
    const podDir = join(this.tmp, pod.name);
    // Volumes: a directory each; ConfigMaps and Secrets written out (with Service names rewritten).
    const volumes = new Map<string, string>();
    for (const volume of spec.volumes ?? []) {
      const dir = join(podDir, "volumes", volume.name);
      mkdirSync(dir, { recursive: true });
      const source = volume.configMap
        ? {
            kind: "ConfigMap",
            name: volume.configMap.name,
            data: this.configMaps.get(`${ns}/${volume.configMap.name}`),
            optional: volume.configMap.optional,
          }
        : volume.secret
          ? {
              kind: "Secret",
              name: volume.secret.secretName,
              data: this.secrets.get(`${ns}/${volume.secret.secretName}`),
              optional: volume.secret.optional,
            }
          : undefined;
      if (source && !source.data && !source.optional) throw new Error(`FailedMount: ${source.kind} "${source.name}" not found`);
      for (const [file, content] of Object.entries(source?.data ?? {})) writeFileSync(join(dir, file), this.rewriteHosts(content));
      volumes.set(volume.name, dir);
    }
    const mounts = (container: any): Array<[string, string]> =>
      [
        ...(container.volumeMounts ?? []).map(
          (m: { name: string; mountPath: string }) => [m.mountPath, volumes.get(m.name)!] as [string, string],
        ),
        ["/app", this.options.appDir] as [string, string],
      ].sort((a, b) => b[0].length - a[0].length);
    const rewritePaths = (text: string, table: Array<[string, string]>) =>
      table.reduce((acc, [from, to]) => acc.replace(new RegExp(`(^|[\\s="'])${escape(from)}(?=/|$|[\\s"'])`, "g"), `$1${to}`), text);
    const rewrite = (text: string, table: Array<[string, string]>) => rewritePaths(this.rewriteHosts(text), table);

    for (const init of spec.initContainers ?? []) {
      const table = mounts(init);
      const env = { ...this.containerEnv(init, ns, (v) => rewrite(v, table)), PATH: `${this.shims(pod)}:${process.env.PATH}` };
      const command = [...(init.command ?? []), ...(init.args ?? [])].map((part: string) => rewrite(part, table));
      if (command[0] !== "sh") throw new Error(`init container ${init.name}: cannot emulate ${command.join(" ")}`);
      const run = spawnSync(command[0], command.slice(1), { env, encoding: "utf8", timeout: 30_000 });
      if (run.status !== 0) throw new Error(`Init:Error: ${init.name} exited with ${run.status}: ${run.stdout}${run.stderr}`);
    }

    for (const container of spec.containers) {
      const table = mounts(container);
      const env: Record<string, string> = { PATH: process.env.PATH!, ...this.containerEnv(container, ns, (v) => rewrite(v, table)) };
      const local = (containerPort: number) => pod.ports.get(containerPort) ?? containerPort;
      let command: string[];
      let args: string[] = (container.args ?? []).map((a: string) => expandVariables(rewrite(String(a), table), env));
      if (RUNTIME_IMAGE.test(container.image)) {
        if (container.command) throw new Error(`${container.name}: a runtime container keeps the image's ENTRYPOINT`);
        const at = args.indexOf("--port");
        // The image listens on CONTAINER_PORT unless told otherwise (PORT): the pod's port maps to a free one.
        if (at >= 0) args[at + 1] = String(local(Number(args[at + 1])));
        else env.PORT = String(local(CONTAINER_PORT));
        command = [process.execPath, join(repo, "cli", "bin.js")];
      } else if (REDIS_IMAGE.test(container.image)) {
        const dataDir = join(podDir, "redis");
        mkdirSync(dataDir, { recursive: true });
        const given = [...(container.command ?? []).map((c: string) => expandVariables(c, env)), ...args];
        const rest = given[0]?.includes("redis-server") ? given.slice(1) : given.filter((a) => !a.includes("redis-server"));
        const port = local((container.ports?.[0]?.containerPort as number | undefined) ?? 6379);
        command = ["redis-server"];
        args = [...rest, "--port", String(port), "--bind", pod.ip, "--dir", dataDir, "--save", "", "--appendonly", "no"];
      } else {
        throw new Error(`${container.name}: no local stand-in for image ${container.image}`);
      }
      const child = spawn(command[0], [...command.slice(1), ...args], { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
      this.children.push(child);
      pod.process = child;
      child.stdout!.on("data", (chunk: Buffer) => (pod.log += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (pod.log += chunk.toString()));
      const probe = container.readinessProbe;
      if (probe) pod.probes.push({ container: container.name, check: () => this.check(pod, probe, env) });
    }
  }

  /** One readiness probe, as the kubelet runs it against the pod IP; undefined when it passes. */
  private async check(pod: Pod, probe: any, env: Record<string, string>): Promise<string | undefined> {
    const port = (p: number) => pod.ports.get(p) ?? p;
    if (probe.httpGet) {
      const url = `http://${pod.ip}:${port(probe.httpGet.port)}${probe.httpGet.path ?? "/"}`;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        return response.status >= 200 && response.status < 400
          ? undefined
          : `GET ${url} answered ${response.status}: ${await response.text()}`;
      } catch (error) {
        const why = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
        const loopback = /on http:\/\/127\.0\.0\.1:/.test(pod.log)
          ? " (the container listens on 127.0.0.1 only, which neither the kubelet nor other pods reach)"
          : "";
        return `GET ${url}: ${why}${loopback}`;
      }
    }
    if (probe.tcpSocket) return connects(pod.ip, port(probe.tcpSocket.port));
    if (probe.exec) {
      // In the pod, redis-cli's default 127.0.0.1:6379 is the pod's own server: here, its pod IP and port.
      const dir = join(this.tmp, pod.name, "probe-bin");
      mkdirSync(dir, { recursive: true });
      const real = spawnSync("sh", ["-c", "command -v redis-cli"], { encoding: "utf8" }).stdout.trim();
      writeFileSync(join(dir, "redis-cli"), `#!/bin/sh\nexec ${real} -h ${pod.ip} -p ${[...pod.ports.values()][0]} "$@"\n`, {
        mode: 0o755,
      });
      const [bin, ...rest] = (probe.exec.command as string[]).map((part) => expandVariables(part, env));
      const run = spawnSync(bin, rest, { env: { ...env, PATH: `${dir}:${env.PATH}` }, encoding: "utf8", timeout: 2_000 });
      return run.status === 0 ? undefined : `${probe.exec.command.join(" ")} exited ${run.status}: ${run.stdout}${run.stderr}`;
    }
    return "no probe handler";
  }

  /** The container's environment, resolved from the rendered Secrets and ConfigMaps as the kubelet does. */
  private containerEnv(container: any, ns: string, rewrite: (value: string) => string): Record<string, string> {
    const env: Record<string, string> = {};
    const lookup = (kind: "Secret" | "ConfigMap", ref: { name: string; key: string; optional?: boolean }, variable: string) => {
      const data = (kind === "Secret" ? this.secrets : this.configMaps).get(`${ns}/${ref.name}`);
      if (!data) {
        if (ref.optional) return undefined;
        throw new Error(
          `CreateContainerConfigError: ${container.name}: ${variable} needs ${kind.toLowerCase()} "${ref.name}", which the manifests do not have`,
        );
      }
      if (!Object.hasOwn(data, ref.key)) {
        if (ref.optional) return undefined;
        throw new Error(
          `CreateContainerConfigError: ${container.name}: ${variable} needs key "${ref.key}" of ${kind.toLowerCase()} "${ref.name}", which has only: ${Object.keys(data).join(", ") || "(none)"}`,
        );
      }
      const value = data[ref.key];
      if (kind !== "Secret" || !isPlaceholder(value)) return value;
      const id = `${ns}/${ref.name}/${ref.key}`;
      if (!this.filled.has(id)) this.filled.set(id, this.options.secretValues[variable] ?? `test-${ref.key}-${process.pid}`);
      return this.filled.get(id)!;
    };
    for (const from of container.envFrom ?? []) {
      const kind = from.secretRef ? "Secret" : "ConfigMap";
      const ref = from.secretRef ?? from.configMapRef;
      const data = (kind === "Secret" ? this.secrets : this.configMaps).get(`${ns}/${ref.name}`);
      if (!data && !ref.optional)
        throw new Error(`CreateContainerConfigError: ${container.name}: envFrom ${kind.toLowerCase()} "${ref.name}" not found`);
      for (const k of Object.keys(data ?? {})) env[`${from.prefix ?? ""}${k}`] = rewrite(lookup(kind, { name: ref.name, key: k }, k)!);
    }
    for (const variable of container.env ?? []) {
      const from = variable.valueFrom;
      const value = from?.secretKeyRef
        ? lookup("Secret", from.secretKeyRef, variable.name)
        : from?.configMapKeyRef
          ? lookup("ConfigMap", from.configMapKeyRef, variable.name)
          : from
            ? undefined
            : String(variable.value ?? "");
      if (value !== undefined) env[variable.name] = rewrite(from ? value : expandVariables(value, env));
    }
    return env;
  }

  /** `wget`, `aws` and `ossutil` that copy the pod's model artifact from a local file (by the URL's path). */
  private shims(pod: Pod): string {
    const dir = join(this.tmp, pod.name, "bin");
    mkdirSync(dir, { recursive: true });
    const table = Object.entries(this.options.artifacts)
      .map(([suffix, file]) => `  *${suffix}) src=${JSON.stringify(file)} ;;`)
      .join("\n");
    const script = (findOut: string) => `#!/bin/sh
# Stand-in for a download: copies the local file whose URL path ends like the requested one.
${findOut}
for a in "$@"; do case "$a" in *://*) url="$a" ;; esac; done
case "$url" in
${table}
  *) echo "no local artifact for $url" >&2; exit 1 ;;
esac
cp "$src" "$out"
`;
    const last = `eval out=\\\${$#}`;
    writeFileSync(join(dir, "wget"), script(`out=""; prev=""; for a in "$@"; do [ "$prev" = "-O" ] && out="$a"; prev="$a"; done`));
    writeFileSync(join(dir, "aws"), script(last));
    writeFileSync(join(dir, "ossutil"), script(last));
    for (const bin of ["wget", "aws", "ossutil"]) chmodSync(join(dir, bin), 0o755);
    return dir;
  }
}

/** Kubernetes' `$(VAR)` expansion in command, args and env values (`$$(VAR)` stays literal; unknown names stay as written). */
export function expandVariables(text: string, env: Record<string, string>): string {
  return text.replace(/\$(\$)?\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, escaped: string | undefined, name: string) =>
    escaped ? `$(${name})` : Object.hasOwn(env, name) ? env[name] : whole,
  );
}

const key = (m: Manifest) => `${m.metadata.namespace ?? "default"}/${m.metadata.name}`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const tail = (log: string) => log.split("\n").slice(-15).join("\n");

function connects(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (error) => resolve(`tcp ${host}:${port}: ${error.message}`));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(`tcp ${host}:${port}: timed out`);
    });
  });
}

/** The variable the gateway reads its API keys from. */
export const API_KEYS_VARIABLE = RUNTIME_ENV.apiKeys;
