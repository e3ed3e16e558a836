/** Redis is private and requires a password, which lives in a Secret. */
import type { StackValidationPolicy } from "@pulumi/policy";

/** The port Redis listens on. */
const REDIS_PORT = 6379;

type Port = { port?: unknown; targetPort?: unknown };
type EnvVar = { name: string; value?: unknown; valueFrom?: { secretKeyRef?: { name?: unknown; key?: unknown } } };
type Container = { name?: string; image?: unknown; command?: unknown[]; args?: unknown[]; env?: EnvVar[] };

/** A Service in front of Redis: labelled as one, or on Redis's port. */
function isRedisService(props: Record<string, any>): boolean {
  const ports: Port[] = props.spec?.ports ?? [];
  return (
    props.metadata?.labels?.["app.kubernetes.io/name"] === "redis" ||
    ports.some((p) => Number(p.port) === REDIS_PORT || Number(p.targetPort) === REDIS_PORT)
  );
}

/** A container running Redis's server image. */
const isRedisContainer = (container: Container): boolean =>
  typeof container.image === "string" && /(^|\/)redis(:|@|$)/.test(container.image);

/** What is wrong with how a Redis container is authenticated, if anything. */
function authProblem(container: Container): string | undefined {
  const words = [...(container.command ?? []), ...(container.args ?? [])].map(String);
  const at = words.indexOf("--requirepass");
  if (at < 0 || at + 1 >= words.length)
    return "requires no password; add --requirepass $(REDIS_PASSWORD) with REDIS_PASSWORD from a Secret (valueFrom.secretKeyRef)";
  const reference = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(words[at + 1]);
  const variable = reference && (container.env ?? []).find((e) => e.name === reference[1]);
  if (!variable?.valueFrom?.secretKeyRef)
    return "has its password in the pod spec; pass --requirepass $(REDIS_PASSWORD) with REDIS_PASSWORD from a Secret (valueFrom.secretKeyRef)";
  return undefined;
}

/** No Redis Service outside the cluster (LoadBalancer, NodePort); every Redis requires a password kept in a Secret. */
export const redisPrivate: StackValidationPolicy = {
  name: "cloudloom-redis-private",
  description: "Redis is reachable only inside the cluster and requires a password that lives in a Secret.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const r of resources) {
      if (r.type === "kubernetes:core/v1:Service" && isRedisService(r.props)) {
        const type = r.props.spec?.type ?? "ClusterIP";
        if (type === "LoadBalancer" || type === "NodePort" || (r.props.spec?.externalIPs ?? []).length > 0)
          report(
            `Service ${r.name} exposes Redis outside the cluster (${type}${type === "ClusterIP" ? " with externalIPs" : ""}); make it ClusterIP (or headless) and reach it from the gateway's pods only`,
            r.urn,
          );
      }
      if (r.type === "kubernetes:apps/v1:StatefulSet" || r.type === "kubernetes:apps/v1:Deployment") {
        const containers: Container[] = r.props.spec?.template?.spec?.containers ?? [];
        for (const container of containers.filter(isRedisContainer)) {
          const problem = authProblem(container);
          if (problem)
            report(`${r.type.split("/")[1].replace("v1:", "")} ${r.name}: Redis container ${container.name ?? ""} ${problem}`, r.urn);
        }
      }
    }
  },
};
