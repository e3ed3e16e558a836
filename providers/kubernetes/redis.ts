/**
 * The gateway's shared store in the cluster: one Redis with persistence
 * (append-only file on a PersistentVolumeClaim), reachable only inside the
 * cluster on a headless Service, and requiring a password that lives in a
 * Secret and nowhere else (no literal in a pod spec or a ConfigMap).
 */
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as apps from "@pulumi/kubernetes/apps/v1";
import * as core from "@pulumi/kubernetes/core/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import { RUNTIME_ENV } from "../../runtime/contract";
import { TargetConfigError } from "../shared/config-error";
import { fillInAnnotation } from "../shared/fill-in";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { REDIS_USER, restrictedContainer, restrictedPod } from "./security";

/** The Redis image: 7.x, the line the gateway's client is tested against. */
export const REDIS_IMAGE = "redis:7.4";

/** The port Redis listens on. */
export const REDIS_PORT = 6379;

/** The key of the password in the Redis Secret. */
export const REDIS_PASSWORD_KEY = "password";

/** The variable the Redis container (and the gateway) read the password from. */
export const REDIS_PASSWORD_ENV = "CLOUDLOOM_REDIS_PASSWORD";

/** Characters a password may have: it is put into a `redis://` URL as it is, so only URL-safe ones. */
const PASSWORD_PATTERN = /^[A-Za-z0-9._~-]{16,}$/;

/** Inputs of the in-cluster Redis. */
export interface KubernetesRedisArgs {
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  /** The password (stack config `cloudloom:redisPassword`); absent, one is generated once and kept in the Secret. */
  password?: pulumi.Input<string>;
  /** Size of the PersistentVolumeClaim. @default "1Gi" */
  storage?: string;
  /** StorageClass of the claim. @default the cluster's default */
  storageClassName?: string;
}

/** Refuses a password that would break the `redis://` URL or is too short to be one. */
export function checkRedisPassword(value: string): string {
  if (!PASSWORD_PATTERN.test(value))
    throw new TargetConfigError(
      "stack config cloudloom:redisPassword must be at least 16 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-' (it goes into a redis:// URL as it is); set it with: pulumi config set --secret cloudloom:redisPassword $(openssl rand -hex 24)",
    );
  return value;
}

/** The configured password as a Pulumi secret; a secret from stack config is checked when its value is known (`up` fails then). */
function checkedPassword(password: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(password).apply(checkRedisPassword));
}

/** One Redis for the gateway, typed `cloudloom:kubernetes:Redis`. */
export class KubernetesRedis extends pulumi.ComponentResource {
  /** Host name of its Service inside the cluster. */
  readonly host: pulumi.Output<string>;
  /** Name of the Secret holding its password (key `password`). */
  readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: KubernetesRedisArgs, opts: pulumi.ComponentResourceOptions & { provider?: pulumi.ProviderResource }) {
    super("cloudloom:kubernetes:Redis", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const metadata = { name, namespace: args.namespace, labels: args.labels };
    const selector = { "cloudloom.dev/workload": name };
    // A password from stack config wins (and changing it rotates it). Otherwise one is
    // generated with node:crypto (@pulumi/random is not a dependency) and ignoreChanges keeps
    // the first one the Secret was created with: every later run generates another, which is
    // never applied, so Redis and the gateway keep agreeing (both read it from the Secret).
    const generated = args.password === undefined;
    const password = generated ? pulumi.secret(randomBytes(24).toString("hex")) : checkedPassword(args.password!);
    const secret = new core.Secret(
      name,
      {
        metadata: {
          ...metadata,
          annotations: fillInAnnotation({
            [REDIS_PASSWORD_KEY]: "cloudloom:redisPassword (16+ URL-safe characters, e.g. openssl rand -hex 24)",
          }),
        },
        type: "Opaque",
        stringData: { [REDIS_PASSWORD_KEY]: password },
      },
      { ...child, ignoreChanges: generated ? ["stringData"] : [] },
    );
    // Headless: the StatefulSet's governing Service, and the name the gateway connects to.
    const service = new core.Service(
      name,
      {
        metadata,
        spec: {
          type: "ClusterIP",
          clusterIP: "None",
          selector,
          ports: [{ name: "redis", port: REDIS_PORT, targetPort: REDIS_PORT }],
        },
      },
      child,
    );
    const passwordEnv = { name: REDIS_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: secret.metadata.name, key: REDIS_PASSWORD_KEY } } };
    // redis-cli reads REDISCLI_AUTH, so the probe never puts the password on a command line.
    const ping = { exec: { command: ["sh", "-c", `REDISCLI_AUTH="$${REDIS_PASSWORD_ENV}" redis-cli ping | grep -q PONG`] } };
    new apps.StatefulSet(
      name,
      {
        metadata,
        spec: {
          serviceName: service.metadata.name,
          replicas: 1,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels: { ...args.labels, ...selector } },
            // The restricted profile as the image's redis user, which owns /data (fsGroup); it writes nowhere else.
            spec: restrictedPod(
              {
                containers: [
                  restrictedContainer(
                    {
                      name: "redis",
                      image: REDIS_IMAGE,
                      // $(VAR) is expanded by the kubelet from the container's env: the value never appears in the spec.
                      args: ["redis-server", "--appendonly", "yes", "--requirepass", `$(${REDIS_PASSWORD_ENV})`],
                      env: [passwordEnv],
                      ports: [{ name: "redis", containerPort: REDIS_PORT }],
                      volumeMounts: [{ name: "data", mountPath: "/data" }],
                      // Its data is on the claim: the node's disk holds only logs.
                      resources: {
                        requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
                        limits: { memory: "512Mi", "ephemeral-storage": "256Mi" },
                      },
                      livenessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 10, failureThreshold: 3 },
                      readinessProbe: { ...ping, periodSeconds: 5, failureThreshold: 2 },
                    },
                    REDIS_USER,
                    false,
                  ),
                ],
              },
              REDIS_USER,
            ),
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels: args.labels },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: args.storageClassName,
                resources: { requests: { storage: args.storage ?? "1Gi" } },
              },
            },
          ],
        },
      },
      child,
    );
    this.host = pulumi.interpolate`${service.metadata.name}.${args.namespace}.svc.cluster.local`;
    this.secretName = secret.metadata.name;
    this.registerOutputs({ host: this.host, secretName: this.secretName });
  }
}

/** The app's Redis: the in-cluster one (its host and password Secret), or the user's URL (a secret). */
export type AppRedis = { host: pulumi.Input<string>; secretName: pulumi.Input<string> } | { url: pulumi.Input<string> };

/**
 * The app's Redis, which the gateway and the asynchronous entries' queues
 * share: the user's URL (stack config `cloudloom:redisUrl`), else one
 * in-cluster Redis, created by whichever step asks first.
 */
export function appRedis(context: KubernetesContext): AppRedis {
  const { args, spec } = context;
  if (args.redisUrl !== undefined) return { url: args.redisUrl };
  if (!context.redis) {
    const redis = new KubernetesRedis(
      resourceName(context.name, "redis"),
      {
        namespace: context.namespace!,
        labels: entryLabels(spec.app, "gateway", "redis", { "app.kubernetes.io/name": "redis" }),
        password: args.redisPassword,
        storage: args.redisStorage,
        storageClassName: args.redisStorageClass,
      },
      context.child,
    );
    context.redis = { host: redis.host, secretName: redis.secretName };
  }
  return context.redis;
}

/**
 * The variables that give a container the Redis URL (`CLOUDLOOM_REDIS_URL`):
 * the in-cluster Redis's password from its Secret, composed into the URL by
 * the kubelet; or the user's URL from `urlSecret` (key `redis-url`). No
 * password is ever in a manifest.
 */
export function redisUrlEnv(redis: AppRedis, urlSecret: pulumi.Input<string>): input.core.v1.EnvVar[] {
  if ("url" in redis) return [{ name: RUNTIME_ENV.redisUrl, valueFrom: { secretKeyRef: { name: urlSecret, key: "redis-url" } } }];
  return [
    { name: REDIS_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: redis.secretName, key: REDIS_PASSWORD_KEY } } },
    // $(VAR) refers to the variable above; the kubelet expands it, so the password is in no manifest.
    { name: RUNTIME_ENV.redisUrl, value: pulumi.interpolate`redis://:$(${REDIS_PASSWORD_ENV})@${redis.host}:${REDIS_PORT}` },
  ];
}
