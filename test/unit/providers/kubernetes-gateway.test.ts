import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { SpecV1 } from "../../../sdk";
import example from "../../../examples/support-desk/app";
import { KubernetesApp, type KubernetesAppArgs } from "../../../providers/kubernetes/app";
import { artifactFetches, kubernetesDescription } from "../../../providers/kubernetes/describe";
import { fillIns, toManifests, toYaml } from "../../../providers/kubernetes/render";
import { kubernetesStackSettings } from "../../../providers/kubernetes/settings";
import { planUnderMocks, type PlannedResource } from "../../../providers/plan";
import { TargetConfigError } from "../../../providers/shared/config-error";
import { gatewayServeArgs } from "../../../runtime/contract";
import { POLICIES } from "../../../policy/policies";
import { redisPrivate } from "../../../policy/policies/redis-private";
import type { PlannedPolicyResource } from "../../../policy/resources";
import { evaluatePolicies, toPolicyResources } from "../../../policy/runner";

const ARTIFACTS = "https://models.example.com";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SECRET = "kubernetes:core/v1:Secret";
const SERVICE = "kubernetes:core/v1:Service";
const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

const spec: SpecV1 = example.toSpec({ target: "kubernetes" });

/** Plans the example; the result is the app's outputs, settled. */
async function plan(extra: Partial<KubernetesAppArgs> = {}) {
  return planUnderMocks(() => {
    const app = new KubernetesApp(spec.app, { spec, artifactBaseUrl: ARTIFACTS, ...extra });
    return pulumi.all([app.endpoints, app.gatewayUrl]).apply(([endpoints, gatewayUrl]) => ({ endpoints, gatewayUrl }));
  });
}

function find(resources: PlannedResource[], type: string, name: string): any {
  const found = resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `no ${type} named ${name}; have:\n${resources.map((r) => `${r.type} ${r.name}`).join("\n")}`);
  return found.inputs;
}

/** True for a value Pulumi captured as a secret. */
const isSecret = (value: unknown) => typeof value === "object" && value !== null && SECRET_SIG in value;

/** A Secret's stringData, which Pulumi captures as one secret (the Kubernetes SDK marks the whole field secret). */
function secretData(inputs: any): Record<string, string> {
  assert.ok(isSecret(inputs.stringData), "stringData is a Pulumi secret");
  return inputs.stringData.value;
}

const gatewayContainer = (resources: PlannedResource[]) =>
  find(resources, DEPLOYMENT, "support-desk-gateway").spec.template.spec.containers[0];

describe("Kubernetes gateway: listen address, Redis, exposure", () => {
  let resources: PlannedResource[];
  let result: { gatewayUrl: string };

  before(async () => {
    ({ resources, result } = await plan({ apiKeys: ["k".repeat(20)] }));
  });

  it("gatewayServeArgs listens on every interface at 8080 (with the settings file when asked)", () => {
    assert.deepEqual(gatewayServeArgs("/etc/cloudloom"), [
      "serve",
      "--spec",
      "/etc/cloudloom/spec.json",
      "--endpoints",
      "/etc/cloudloom/endpoints.json",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
    ]);
  });

  it("runs the gateway on 0.0.0.0:8080 with its settings file, which holds nothing secret", () => {
    const container = gatewayContainer(resources);
    assert.deepEqual(container.args, [
      "serve",
      "--spec",
      "/etc/cloudloom/spec.json",
      "--endpoints",
      "/etc/cloudloom/endpoints.json",
      "--config",
      "/etc/cloudloom/settings.json",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
    ]);
    assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: 8080 });
    const config = find(resources, "kubernetes:core/v1:ConfigMap", "support-desk-gateway");
    assert.deepEqual(JSON.parse(config.data["settings.json"]), { trustedProxies: [] });
    assert.deepEqual(container.volumeMounts, [
      { name: "config", mountPath: "/etc/cloudloom", readOnly: true },
      { name: "scratch", mountPath: "/var/tmp/cloudloom" },
    ]);
  });

  it("deploys Redis: a StatefulSet with AOF and a password from its Secret, a PVC template, a headless Service", () => {
    const set = find(resources, STATEFUL_SET, "support-desk-redis");
    assert.equal(set.metadata.namespace, "support-desk");
    assert.equal(set.spec.serviceName, "support-desk-redis");
    assert.equal(set.spec.replicas, 1);
    const redis = set.spec.template.spec.containers[0];
    assert.match(redis.image, /^redis:7/);
    assert.deepEqual(redis.args, ["redis-server", "--appendonly", "yes", "--requirepass", "$(CLOUDLOOM_REDIS_PASSWORD)"]);
    assert.deepEqual(redis.env, [
      { name: "CLOUDLOOM_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "support-desk-redis", key: "password" } } },
    ]);
    assert.deepEqual(redis.volumeMounts, [{ name: "data", mountPath: "/data" }]);
    assert.doesNotMatch(JSON.stringify(redis.readinessProbe), /-a /, "the probe never puts the password on a command line");
    assert.deepEqual(set.spec.volumeClaimTemplates[0].metadata.name, "data");
    assert.deepEqual(set.spec.volumeClaimTemplates[0].spec, {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
    });
    const service = find(resources, SERVICE, "support-desk-redis");
    assert.equal(service.spec.clusterIP, "None");
    assert.equal(service.spec.type, "ClusterIP");
    assert.deepEqual(service.spec.ports, [{ name: "redis", port: 6379, targetPort: 6379 }]);
    assert.deepEqual(service.spec.selector, set.spec.selector.matchLabels);
    assert.match(secretData(find(resources, SECRET, "support-desk-redis")).password, /^[0-9a-f]{48}$/);
  });

  it("points the gateway at that Redis: the password from the Secret, the URL composed by the kubelet", () => {
    const env = gatewayContainer(resources).env;
    assert.deepEqual(env, [
      { name: "CLOUDLOOM_API_KEYS", valueFrom: { secretKeyRef: { name: "support-desk-gateway-keys", key: "api-keys" } } },
      { name: "CLOUDLOOM_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "support-desk-redis", key: "password" } } },
      { name: "CLOUDLOOM_REDIS_URL", value: "redis://:$(CLOUDLOOM_REDIS_PASSWORD)@support-desk-redis.support-desk.svc.cluster.local:6379" },
      // The example's functions report their calls to intent@1, which holds: the gateway takes them with this token.
      { name: "CLOUDLOOM_DEMAND_TOKEN", valueFrom: { secretKeyRef: { name: "support-desk-demand-token", key: "token" } } },
      // Its /metrics and /metrics/demand take this token (which the ServiceMonitor and KEDA present): never open in a cluster.
      { name: "CLOUDLOOM_METRICS_TOKEN", valueFrom: { secretKeyRef: { name: "support-desk-metrics-token", key: "token" } } },
      { name: "TMPDIR", value: "/var/tmp/cloudloom" },
      { name: "HOME", value: "/var/tmp/cloudloom" },
    ]);
  });

  it("takes a configured Redis password, and refuses one that would break the URL", async () => {
    const { resources: planned } = await plan({ redisPassword: pulumi.secret("a".repeat(24)) });
    assert.equal(secretData(find(planned, SECRET, "support-desk-redis")).password, "a".repeat(24));
    await assert.rejects(plan({ redisPassword: "p@ss/word-with-symbols" }), /cloudloom:redisPassword must be at least 16 characters/);
  });

  it("uses the user's redisUrl instead: no StatefulSet, the URL a secret in the gateway's Secret", async () => {
    const url = "rediss://:hunter2hunter2@redis.example.com:6380";
    // A redisPassword (the offline plan's placeholder, say) is then unused.
    const { resources: planned } = await plan({ redisUrl: pulumi.secret(url), redisPassword: "a".repeat(20) });
    assert.ok(!planned.some((r) => r.type === STATEFUL_SET || r.name.endsWith("-redis")), "no Redis is deployed");
    assert.equal(secretData(find(planned, SECRET, "support-desk-gateway-keys"))["redis-url"], url);
    assert.deepEqual(
      gatewayContainer(planned).env.filter((e: { name: string }) => e.name.startsWith("CLOUDLOOM_REDIS")),
      [{ name: "CLOUDLOOM_REDIS_URL", valueFrom: { secretKeyRef: { name: "support-desk-gateway-keys", key: "redis-url" } } }],
    );
    assert.doesNotMatch(JSON.stringify(find(planned, DEPLOYMENT, "support-desk-gateway")), /hunter2/);
  });

  it("exposes the gateway on a load balancer by default, keeping client addresses; gatewayUrl is its address", () => {
    const service = find(resources, SERVICE, "support-desk-gateway");
    assert.equal(service.spec.type, "LoadBalancer");
    assert.equal(service.spec.externalTrafficPolicy, "Local");
    assert.equal(service.metadata.annotations["cloudloom.dev/requires-auth"], undefined);
    assert.deepEqual(service.spec.ports, [{ name: "http", port: 80, targetPort: 8080 }]);
    assert.equal(result.gatewayUrl, "http://192.0.2.10");
    assert.ok(!resources.some((r) => r.type === INGRESS));
  });

  it("exposes it on an Ingress for gatewayHost (https with a TLS Secret)", async () => {
    const { resources: planned, result: outputs } = await plan({
      gatewayExposure: "ingress",
      gatewayHost: "api.example.com",
      gatewayTlsSecret: "api-tls",
      gatewayIngressClass: "nginx",
      gatewayTrustedProxies: ["10.0.0.0/8"],
    });
    assert.equal(find(planned, SERVICE, "support-desk-gateway").spec.type, "ClusterIP");
    const ingress = find(planned, INGRESS, "support-desk-gateway");
    assert.equal(ingress.metadata.namespace, "support-desk");
    assert.deepEqual(ingress.spec, {
      ingressClassName: "nginx",
      tls: [{ hosts: ["api.example.com"], secretName: "api-tls" }],
      rules: [
        {
          host: "api.example.com",
          http: {
            paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "support-desk-gateway", port: { name: "http" } } } }],
          },
        },
      ],
    });
    assert.equal(outputs.gatewayUrl, "https://api.example.com");
    const config = find(planned, "kubernetes:core/v1:ConfigMap", "support-desk-gateway");
    assert.deepEqual(JSON.parse(config.data["settings.json"]).trustedProxies, ["10.0.0.0/8"]);
    const plain = await plan({ gatewayExposure: "ingress", gatewayHost: "api.example.com" });
    assert.equal(plain.result.gatewayUrl, "http://api.example.com");
  });

  it("keeps it inside the cluster with clusterIP", async () => {
    const { resources: planned, result: outputs } = await plan({ gatewayExposure: "clusterIP" });
    assert.equal(find(planned, SERVICE, "support-desk-gateway").spec.type, "ClusterIP");
    assert.ok(!planned.some((r) => r.type === INGRESS));
    assert.equal(outputs.gatewayUrl, "http://support-desk-gateway.support-desk.svc.cluster.local");
  });

  it("refuses exposure settings that cannot work before creating anything", async () => {
    await assert.rejects(
      plan({ gatewayExposure: "ingress" }),
      (e: Error) => e instanceof TargetConfigError && /gatewayHost/.test(e.message),
    );
    await assert.rejects(plan({ gatewayExposure: "hostPort" as never }), /loadBalancer, ingress, clusterIP, nodePort/);
    await assert.rejects(plan({ gatewayHost: "api.example.com" }), /gatewayExposure ingress/);
    await assert.rejects(plan({ gatewayExposure: "ingress", gatewayHost: "Not A Host" }), /not a host name/);
  });

  it("has no gateway URL (and no Redis) when the app has no gateway here", async () => {
    const { resources: planned, result: outputs } = await plan({ gateway: false });
    assert.equal(outputs.gatewayUrl, "");
    assert.ok(!planned.some((r) => r.type === STATEFUL_SET));
  });
});

describe("Kubernetes secrets from cloudloom:secrets", () => {
  it("creates <app>-secrets with each declared secret, names in the clear and values as Pulumi secrets", async () => {
    const { resources } = await plan({
      secrets: { names: ["crm-token"], values: pulumi.secret({ "crm-token": "tok-123" }) },
    });
    const secret = find(resources, SECRET, "support-desk-secrets");
    assert.equal(secret.metadata.name, "support-desk-secrets");
    assert.deepEqual(secretData(secret), { "crm-token": "tok-123" });
    const fn = find(resources, DEPLOYMENT, "support-desk-fn-classify-central").spec.template.spec.containers[0];
    assert.deepEqual(fn.env[0], { name: "CRM_TOKEN", valueFrom: { secretKeyRef: { name: "support-desk-secrets", key: "crm-token" } } });
    assert.doesNotMatch(JSON.stringify(fn), /tok-123/);
  });

  it("wraps plain record values as secrets too", async () => {
    const { resources } = await plan({ secrets: { "crm-token": "tok-123" } });
    assert.deepEqual(secretData(find(resources, SECRET, "support-desk-secrets")), { "crm-token": "tok-123" });
  });

  it("refuses settings missing a secret a function declares", async () => {
    await assert.rejects(plan({ secrets: { names: ["other"], values: { other: "x" } } }), /crm-token/);
  });

  it("reads every setting from stack config (the registry spreads kubernetesStackSettings)", async () => {
    const config: Record<string, string> = {
      apiKeys: "aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb",
      secrets: JSON.stringify({ "crm-token": "tok" }),
      redisPassword: "c".repeat(20),
      redisStorage: "5Gi",
      gatewayExposure: "ingress",
      gatewayHost: "api.example.com",
      gatewayTrustedProxies: "10.0.0.0/8, 192.168.0.0/16",
    };
    const source = {
      get: (key: string) => config[key],
      getSecret: (key: string) => (config[key] === undefined ? undefined : pulumi.secret(config[key])),
      secretKeys: (key: string) => (config[key] === undefined ? undefined : Object.keys(JSON.parse(config[key]))),
    };
    const { resources, result } = await planUnderMocks(() => {
      const app = new KubernetesApp(spec.app, { spec, artifactBaseUrl: ARTIFACTS, ...kubernetesStackSettings(source) });
      return app.gatewayUrl;
    });
    assert.equal(result, "http://api.example.com");
    assert.equal(find(resources, STATEFUL_SET, "support-desk-redis").spec.volumeClaimTemplates[0].spec.resources.requests.storage, "5Gi");
    assert.equal(secretData(find(resources, SECRET, "support-desk-secrets"))["crm-token"], "tok");
    assert.equal(
      secretData(find(resources, SECRET, "support-desk-gateway-keys"))["api-keys"],
      "aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb",
    );
    assert.throws(
      () => kubernetesStackSettings({ ...source, get: (key) => (key === "gatewayExposure" ? "public" : undefined) }),
      TargetConfigError,
    );
  });
});

describe("Kubernetes manifests and artifacts for plan", () => {
  let resources: PlannedResource[];

  before(async () => {
    ({ resources } = await plan({
      apiKeys: pulumi.secret(["k".repeat(20)]),
      secrets: { names: ["crm-token"], values: pulumi.secret({ "crm-token": "tok-123" }) },
    }));
  });

  it("renders Secrets with their real keys and marked placeholders, never Pulumi's wrapper or a value", () => {
    const yaml = toYaml(toManifests(resources));
    assert.doesNotMatch(yaml, new RegExp(SECRET_SIG), "no leaked secret wrapper key");
    assert.doesNotMatch(yaml, /1b47061264138c4ac30d75fd1eb44270/);
    assert.doesNotMatch(yaml, /tok-123|kkkkkkkkkkkkkkkk/, "no secret value");
    const secrets = Object.fromEntries(
      toManifests(resources)
        .filter((m) => m.kind === "Secret")
        .map((m) => [m.metadata.name, m.stringData]),
    );
    assert.deepEqual(secrets, {
      "support-desk-demand-token": {
        token: "<fill in: cloudloom:demandToken (16+ characters, e.g. openssl rand -hex 24)>",
      },
      "support-desk-gateway-keys": { "api-keys": "<fill in: cloudloom:apiKeys (one key per line, 16+ characters each)>" },
      "support-desk-metrics-token": { token: "<fill in: cloudloom:metricsToken (16+ characters, e.g. openssl rand -hex 24)>" },
      "support-desk-redis": { password: "<fill in: cloudloom:redisPassword (16+ URL-safe characters, e.g. openssl rand -hex 24)>" },
      "support-desk-secrets": { "crm-token": "<fill in: cloudloom:secrets.crm-token>" },
    });
  });

  it("lists what to fill in, and starts the --out file with that list", () => {
    assert.deepEqual(
      fillIns(toManifests(resources)).map((f) => `${f.kind} ${f.namespace}/${f.name} ${f.key}: ${f.source}`),
      [
        "Secret support-desk/support-desk-demand-token token: cloudloom:demandToken (16+ characters, e.g. openssl rand -hex 24)",
        "Secret support-desk/support-desk-gateway-keys api-keys: cloudloom:apiKeys (one key per line, 16+ characters each)",
        "Secret support-desk/support-desk-metrics-token token: cloudloom:metricsToken (16+ characters, e.g. openssl rand -hex 24)",
        "Secret support-desk/support-desk-redis password: cloudloom:redisPassword (16+ URL-safe characters, e.g. openssl rand -hex 24)",
        "Secret support-desk/support-desk-secrets crm-token: cloudloom:secrets.crm-token",
      ],
    );
    assert.equal(kubernetesDescription.fillIns!(resources).length, 5);
    const file = kubernetesDescription.manifests!(resources);
    assert.match(file, /^# Before kubectl apply -f: replace each "<fill in: \.\.\.>" value/);
    assert.match(file, /#   Secret support-desk\/support-desk-secrets crm-token: cloudloom:secrets\.crm-token\n/);
  });

  it("renders a secret value found outside a Secret as a placeholder, not the value", () => {
    const leaked: PlannedResource = {
      type: "kubernetes:core/v1:ConfigMap",
      name: "c",
      custom: true,
      inputs: { metadata: { name: "c" }, data: { token: { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "s3cr3t" } } },
    };
    const [manifest] = toManifests([leaked]);
    assert.match(String((manifest.data as any).token), /^<fill in: /);
    assert.deepEqual(
      fillIns([manifest]).map((f) => f.key),
      ["data.token"],
    );
  });

  it("lists every model artifact the cluster fetches, with its sha256", () => {
    const sha = spec.models["intent@1"].artifact.sha256;
    assert.deepEqual(artifactFetches(resources), [
      {
        url: `${ARTIFACTS}/intent/1/model.onnx`,
        sha256: sha,
        workloads: ["support-desk-intent-v1-central", "support-desk-intent-v1-edge-berlin"],
      },
    ]);
    assert.deepEqual(kubernetesDescription.artifacts!(resources), artifactFetches(resources));
  });

  it("renders the Redis StatefulSet and the Ingress as valid Kubernetes objects", async () => {
    const { resources: planned } = await plan({ gatewayExposure: "ingress", gatewayHost: "api.example.com" });
    const { StatefulSet } = await import("kubernetes-models/apps/v1");
    const { Ingress } = await import("kubernetes-models/networking.k8s.io/v1");
    const manifests = toManifests(planned);
    new StatefulSet(manifests.find((m) => m.kind === "StatefulSet") as never).validate();
    new Ingress(manifests.find((m) => m.kind === "Ingress") as never).validate();
  });
});

describe("policy cloudloom-redis-private", () => {
  const r = (type: string, name: string, props: Record<string, any>): PlannedPolicyResource => ({
    type,
    name,
    urn: `${type}::${name}`,
    props,
  });
  const messages = async (resources: PlannedPolicyResource[]) =>
    (await evaluatePolicies(resources, {}, [redisPrivate])).map((v) => v.message);
  const service = (type: string) => r(SERVICE, "cache", { metadata: { name: "cache" }, spec: { type, ports: [{ port: 6379 }] } });
  const redis = (args: string[], env: object[] = []) =>
    r(STATEFUL_SET, "cache", { spec: { template: { spec: { containers: [{ name: "redis", image: "redis:7.4", args, env }] } } } });
  const fromSecret = [{ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "cache", key: "password" } } }];

  it("passes a cluster-internal Redis requiring a password from a Secret", async () => {
    assert.deepEqual(await messages([service("ClusterIP"), redis(["redis-server", "--requirepass", "$(REDIS_PASSWORD)"], fromSecret)]), []);
  });

  it("fails a Redis Service on a load balancer or node port", async () => {
    assert.deepEqual(await messages([service("LoadBalancer")]), [
      "Service cache exposes Redis outside the cluster (LoadBalancer); make it ClusterIP (or headless) and reach it from the gateway's pods only",
    ]);
    assert.equal((await messages([service("NodePort")])).length, 1);
  });

  it("fails a Redis without a password, or with one written in the pod spec", async () => {
    assert.deepEqual(await messages([redis(["redis-server", "--appendonly", "yes"])]), [
      "StatefulSet cache: Redis container redis requires no password; add --requirepass $(REDIS_PASSWORD) with REDIS_PASSWORD from a Secret (valueFrom.secretKeyRef)",
    ]);
    assert.match((await messages([redis(["redis-server", "--requirepass", "hunter2"])]))[0], /has its password in the pod spec/);
    assert.match(
      (await messages([redis(["redis-server", "--requirepass", "$(REDIS_PASSWORD)"], [{ name: "REDIS_PASSWORD", value: "hunter2" }])]))[0],
      /has its password in the pod spec/,
    );
  });

  it("passes on the example app's plan, as does every other policy", async () => {
    const { resources } = await plan({ apiKeys: ["k".repeat(20)] });
    const violations = await evaluatePolicies(toPolicyResources(resources), {}, [...POLICIES, redisPrivate]);
    assert.deepEqual(
      violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`),
      [],
    );
  });
});
