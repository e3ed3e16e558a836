/**
 * What an ENS instance runs at first boot (its `userData`, a shell script,
 * base64 as ENS takes it, at most 16 KB): it writes the files its containers
 * read (the spec, the gateway's endpoints and settings, gzip-compressed in
 * the script), keeps the RAM credentials in a root-only file, fetches each
 * model's artifact from OSS with them and checks its sha256 (the same
 * fetch-and-verify as Kubernetes pods), then starts one cloudloom runtime
 * container per function, model or gateway, restarted by Docker, read-only,
 * without capabilities. Pure: no Pulumi here.
 */
import { gzipSync } from "node:zlib";
import { CONTAINER_PORT, RUNTIME_ENTRYPOINT } from "../../runtime/contract";
import { ARTIFACT_PATH, downloadAndVerify, ossutilCopy } from "../shared/artifact-fetch";
import { TargetConfigError } from "../shared/config-error";
import { ALICLOUD_SECRETS_ENV } from "../../runtime/contract";

/** ENS's limit on an instance's user data (base64). */
export const ENS_USER_DATA_LIMIT = 16 * 1024;

/** Where the instance keeps cloudloom's files. */
export const ENS_HOME = "/opt/cloudloom";

/** The root-only file holding the instance's RAM credentials, which every container reads. */
const CREDENTIALS_FILE = "/etc/cloudloom/credentials.env";

/** One container an instance runs. */
export interface EnsContainer {
  /** Docker container name (DNS-safe). */
  name: string;
  image: string;
  /** The host address and port the container's CONTAINER_PORT is published on. */
  publish: { address: string; port: number };
  /** Arguments of the runtime's entry point (`serve ...`). */
  args: readonly string[];
  /** Environment variables (single-line values). */
  env: Record<string, string>;
  /** Host directories mounted read-only: host path → container path. */
  mounts: Record<string, string>;
  /** Give the container the instance's GPUs. */
  gpu?: boolean;
  /** The model artifact fetched into the container's `/models` before it starts. */
  artifact?: { url: string; sha256: string };
}

/** Everything an instance boots. */
export interface EnsBoot {
  /** Files to write before any container starts: host path → content. */
  files: Record<string, string>;
  /** The RAM user's access key the containers fetch artifacts and read KMS secrets with. */
  credentials: { accessKeyId: string; accessKeySecret: string };
  /** The OSS endpoint artifacts are fetched through. */
  ossEndpoint: string;
  containers: EnsContainer[];
}

/** A POSIX shell word holding exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function writeFile(path: string, content: string, mode: string): string[] {
  const packed = gzipSync(content).toString("base64");
  return [
    `install -d -m 0755 ${shellQuote(path.slice(0, path.lastIndexOf("/")))}`,
    `base64 -d <<'EOF' | gunzip > ${shellQuote(path)}`,
    packed,
    "EOF",
    `chmod ${mode} ${shellQuote(path)}`,
  ];
}

function envFile(name: string, env: Record<string, string>): string[] {
  const lines = Object.entries(env).map(([key, value]) => {
    if (/[\r\n]/.test(value))
      throw new TargetConfigError(`ENS container ${name}: ${key} holds a line break, which a Docker env file cannot carry`);
    return `${key}=${value}`;
  });
  return writeFile(`/etc/cloudloom/${name}.env`, lines.join("\n") + "\n", "0600");
}

function fetchArtifact(container: EnsContainer, ossEndpoint: string): string[] {
  const dir = `${ENS_HOME}/models/${container.name}`;
  const download = downloadAndVerify(
    ossutilCopy(`-i "$${ALICLOUD_SECRETS_ENV.accessKeyId}" -k "$${ALICLOUD_SECRETS_ENV.accessKeySecret}"`),
  );
  return [
    `install -d -m 0755 ${shellQuote(dir)}`,
    [
      "docker run --rm --user 0",
      `--env-file ${CREDENTIALS_FILE}`,
      `-e OSS_ENDPOINT=${shellQuote(ossEndpoint)}`,
      `-e ARTIFACT_URL=${shellQuote(container.artifact!.url)}`,
      `-e ARTIFACT_SHA256=${shellQuote(container.artifact!.sha256)}`,
      `-v ${shellQuote(`${dir}:/models`)}`,
      `--entrypoint sh ${shellQuote(container.image)} -c ${shellQuote(download)}`,
    ].join(" "),
  ];
}

function runContainer(container: EnsContainer): string {
  const mounts = {
    ...container.mounts,
    ...(container.artifact ? { [`${ENS_HOME}/models/${container.name}`]: ARTIFACT_PATH.slice(0, ARTIFACT_PATH.lastIndexOf("/")) } : {}),
  };
  const [command, ...entryArgs] = RUNTIME_ENTRYPOINT;
  return [
    `docker run -d --name ${shellQuote(container.name)} --restart always`,
    "--read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges",
    ...(container.gpu ? ["--gpus all"] : []),
    `--env-file ${CREDENTIALS_FILE} --env-file ${shellQuote(`/etc/cloudloom/${container.name}.env`)}`,
    `-p ${shellQuote(`${container.publish.address}:${container.publish.port}:${CONTAINER_PORT}`)}`,
    ...Object.entries(mounts).map(([host, inside]) => `-v ${shellQuote(`${host}:${inside}:ro`)}`),
    `--entrypoint ${command} ${shellQuote(container.image)}`,
    ...[...entryArgs, ...container.args].map(shellQuote),
  ].join(" ");
}

/** The boot script. */
export function ensBootScript(boot: EnsBoot): string {
  const credentials = {
    [ALICLOUD_SECRETS_ENV.accessKeyId]: boot.credentials.accessKeyId,
    [ALICLOUD_SECRETS_ENV.accessKeySecret]: boot.credentials.accessKeySecret,
  };
  return [
    "#!/bin/sh",
    "set -eu",
    "umask 077",
    // The image should carry Docker; install it from the distribution when it does not.
    "command -v docker >/dev/null || (yum install -y docker || (apt-get update && apt-get install -y docker.io))",
    "systemctl enable --now docker",
    ...writeFile(
      CREDENTIALS_FILE,
      Object.entries(credentials)
        .map(([key, value]) => `${key}=${value}`)
        .join("\n") + "\n",
      "0600",
    ),
    ...Object.entries(boot.files).flatMap(([path, content]) => writeFile(path, content, "0644")),
    ...boot.containers.flatMap((container) => [
      ...envFile(container.name, container.env),
      ...(container.artifact ? fetchArtifact(container, boot.ossEndpoint) : []),
      runContainer(container),
    ]),
    "",
  ].join("\n");
}

/** The instance's `userData`: the boot script in base64, refused when over ENS's 16 KB. */
export function ensUserData(instance: string, boot: EnsBoot): string {
  const encoded = Buffer.from(ensBootScript(boot)).toString("base64");
  if (encoded.length > ENS_USER_DATA_LIMIT)
    throw new TargetConfigError(
      `ENS instance ${instance}: its user data is ${encoded.length} bytes in base64, over ENS's ${ENS_USER_DATA_LIMIT}; place fewer functions and models in its region, or split them across regions`,
    );
  return encoded;
}
