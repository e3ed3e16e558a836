/**
 * The app's network: its namespace denies all traffic, in and out, and
 * NetworkPolicies then allow exactly the flows the app needs:
 *
 * - every pod → kube-dns on 53 (UDP and TCP);
 * - anyone → the gateway on its port; the gateway → functions, models and its Redis;
 * - functions → models, and → the gateway's port when they report their
 *   calls to models that hold (demand-reports.ts; the gateway's ingress is
 *   open on its port, which admits them and KEDA reading the demand);
 * - model pods → anywhere on 443 and 80 (their init container downloads the
 *   artifact; 80 also reaches the node's instance metadata for credentials);
 *   and from anywhere on their port when an authenticated front outside the
 *   cluster reaches them (node ports, or load balancers with the gateway's JWT);
 * - the metrics scraper (pods in the `monitoring` namespace) → every runtime pod;
 * - with asynchronous entries: their workers (function and model pods) → the
 *   Redis their queues are in, and KEDA's operator (the `keda` namespace) →
 *   that Redis, to measure the queues;
 * - with tracing (`cloudloom:tracing`): the gateway, function and model pods →
 *   the collector's port, at exactly the CIDRs or the namespace (and pods) of
 *   `tracing.collector`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as networking from "@pulumi/kubernetes/networking/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import { CONTAINER_PORT } from "../../runtime/contract";
import { asyncEntries } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { collectorPort, type CollectorPeers } from "../shared/tracing";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { anyReportsModelCalls } from "./demand-reports";
import { REDIS_PORT } from "./redis";

type Rule = input.networking.v1.NetworkPolicyIngressRule & input.networking.v1.NetworkPolicyEgressRule;
type Peer = input.networking.v1.NetworkPolicyPeer;

/** The namespace Prometheus scrapes from. */
export const MONITORING_NAMESPACE = "monitoring";

/** The namespace KEDA's operator runs in, whose redis triggers read the queues. */
export const KEDA_NAMESPACE = "keda";

/** Pods of one kind of the app's entries (and, with `name`, one entry). */
export function entrySelector(app: string, kind: "gateway" | "function" | "model", name?: string): Record<string, string> {
  return { "cloudloom.dev/app": app, "cloudloom.dev/kind": kind, ...(name ? { "cloudloom.dev/name": name } : {}) };
}

/** The app's in-cluster Redis pods. */
export const redisSelector = (app: string): Record<string, string> => ({ "cloudloom.dev/app": app, "app.kubernetes.io/name": "redis" });

const pods = (matchLabels: Record<string, string>): Peer => ({ podSelector: { matchLabels } });
const tcp = (port: pulumi.Input<number>) => ({ protocol: "TCP", port });

/** The scraper's rule: from the monitoring namespace, on the runtime's port. */
const scraped: Rule = {
  from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE } } }],
  ports: [tcp(CONTAINER_PORT)],
};

/** The peers a collector is reached at: its CIDRs, or its namespace (and its pods' labels there). */
export function collectorPeers(collector: CollectorPeers): Peer[] {
  if (collector.cidrs) return collector.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  return [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": collector.namespace! } },
      ...(collector.podLabels ? { podSelector: { matchLabels: collector.podLabels } } : {}),
    },
  ];
}

/** The port of a `redis://` URL (6379 when it names none). */
export function redisUrlPort(url: string): number {
  return Number(new URL(url).port || REDIS_PORT);
}

/** The policies step: default-deny, DNS, then one policy per kind of pod the app has. */
export function placeNetworkPolicies(context: KubernetesContext): void {
  const { spec, args } = context;
  const app = spec.app;
  const metadata = (part: string) => ({
    name: resourceName(app, part),
    namespace: context.namespace!,
    labels: entryLabels(app, "app", app),
  });
  const policy = (part: string, body: input.networking.v1.NetworkPolicySpec) =>
    new networking.NetworkPolicy(resourceName(context.name, part), { metadata: metadata(part), spec: body }, context.child);

  policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  policy("dns", {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
    ],
  });

  const hasFunctions = Object.keys(spec.functions).length > 0;
  const hasModels = Object.keys(spec.models).length > 0;
  const gateway = entrySelector(app, "gateway", "gateway");
  const redisEgress: Rule =
    args.redisUrl !== undefined
      ? { ports: [tcp(pulumi.unsecret(pulumi.output(args.redisUrl).apply(redisUrlPort)))] }
      : { to: [pods(redisSelector(app))], ports: [tcp(REDIS_PORT)] };
  // The kinds of pod that work an asynchronous entry's queue, and so reach its Redis.
  const queued = [...asyncEntries(spec).values()];
  const workers = (kind: "function" | "model") => context.queueRedis !== undefined && queued.some((entry) => entry.kind === kind);
  if (args.gateway) {
    policy("gateway", {
      podSelector: { matchLabels: gateway },
      policyTypes: ["Ingress", "Egress"],
      // Clients from anywhere: the load balancer, the ingress controller or other pods.
      ingress: [{ ports: [tcp(CONTAINER_PORT)] }, scraped],
      egress: [
        ...(hasFunctions || hasModels
          ? [
              {
                to: [
                  ...(hasFunctions ? [pods(entrySelector(app, "function"))] : []),
                  ...(hasModels ? [pods(entrySelector(app, "model"))] : []),
                ],
                ports: [tcp(CONTAINER_PORT)],
              },
            ]
          : []),
        redisEgress,
      ],
    });
  }
  if (context.redis)
    policy("redis", {
      podSelector: { matchLabels: redisSelector(app) },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            ...(args.gateway ? [pods(gateway)] : []),
            ...(workers("function") ? [pods(entrySelector(app, "function"))] : []),
            ...(workers("model") ? [pods(entrySelector(app, "model"))] : []),
            ...(context.queueRedis ? [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": KEDA_NAMESPACE } } }] : []),
          ],
          ports: [tcp(REDIS_PORT)],
        },
      ],
    });
  if (hasFunctions)
    policy("functions", {
      podSelector: { matchLabels: entrySelector(app, "function") },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [pods(gateway)], ports: [tcp(CONTAINER_PORT)] }, scraped],
      egress: [
        ...(hasModels ? [{ to: [pods(entrySelector(app, "model"))], ports: [tcp(CONTAINER_PORT)] }] : []),
        ...(anyReportsModelCalls(context) ? [{ to: [pods(gateway)], ports: [tcp(CONTAINER_PORT)] }] : []),
        ...(workers("function") ? [redisEgress] : []),
      ],
    });
  if (hasModels) {
    const exposed = args.modelJwt !== undefined || args.modelNodePorts !== undefined;
    policy("models", {
      podSelector: { matchLabels: entrySelector(app, "model") },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        // Reached from outside the cluster, the pods (JWT) or the front (node port) authenticate callers.
        exposed
          ? { ports: [tcp(CONTAINER_PORT)] }
          : {
              from: [pods(gateway), ...(hasFunctions ? [pods(entrySelector(app, "function"))] : [])],
              ports: [tcp(CONTAINER_PORT)],
            },
        scraped,
      ],
      egress: [{ ports: [tcp(443), tcp(80)] }, ...(workers("model") ? [redisEgress] : [])],
    });
  }
  const collector = args.tracing?.collector;
  const traced = [...(args.gateway ? ["gateway"] : []), ...(hasFunctions ? ["function"] : []), ...(hasModels ? ["model"] : [])];
  if (collector && traced.length > 0)
    policy("tracing", {
      podSelector: {
        matchLabels: { "cloudloom.dev/app": app },
        matchExpressions: [
          { key: "cloudloom.dev/kind", operator: "In", values: traced },
          // The app's Redis is labelled kind gateway, and traces nothing.
          { key: "cloudloom.dev/name", operator: "NotIn", values: ["redis"] },
        ],
      },
      policyTypes: ["Egress"],
      egress: [{ to: collectorPeers(collector), ports: [tcp(collectorPort(args.tracing!))] }],
    });
}
