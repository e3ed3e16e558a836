/** No function or model backend is reachable without the gateway's auth, on any target. */
import type { StackValidationPolicy } from "@pulumi/policy";
import type { PolicyResource } from "@pulumi/policy";
import { FRONTED_BY, REQUIRES_AUTH } from "../../providers/shared/labels";

import { JWT_ENV } from "../../runtime/contract";

/** Names of the Deployments whose every container requires the gateway's JWT. */
function jwtGuardedDeployments(resources: readonly Pick<PolicyResource, "type" | "props">[]): Set<string> {
  return new Set(
    resources
      .filter((r) => r.type === "kubernetes:apps/v1:Deployment")
      .filter((r) => {
        const containers: Array<{ env?: Array<{ name: string }> }> = r.props.spec?.template?.spec?.containers ?? [];
        return containers.length > 0 && containers.every((c) => (c.env ?? []).some((e) => e.name === JWT_ENV.jwks));
      })
      .map((r) => String(r.props.metadata?.name)),
  );
}

/**
 * FC functions that are the app's gateway: the public front, which does its
 * own API-key auth, so its trigger is the one that may be anonymous.
 */
function gatewayFunctions(resources: readonly Pick<PolicyResource, "type" | "props">[]): Set<string> {
  return new Set(
    resources
      .filter((r) => r.type === "alicloud:fc/v3Function:V3Function" && r.props.tags?.["cloudloom.dev/kind"] === "gateway")
      .map((r) => String(r.props.functionName)),
  );
}

/** The authType of an FC HTTP trigger's config, or undefined when it cannot be read (treated as anonymous). */
function triggerAuthType(config: unknown): string | undefined {
  try {
    return typeof config === "string" ? JSON.parse(config).authType : undefined;
  } catch {
    return undefined;
  }
}

/** Backends are private: no public Kubernetes Service, anonymous Function URL or anonymous FC trigger. */
export const noAnonymousEndpoints: StackValidationPolicy = {
  name: "cloudloom-no-anonymous-endpoints",
  description: "Function and model backends are reachable only through the gateway or with signed requests.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const guarded = jwtGuardedDeployments(resources);
    const gateways = gatewayFunctions(resources);
    for (const r of resources) {
      const kind = r.props.metadata?.labels?.["cloudloom.dev/kind"];
      const type = r.props.spec?.type;
      const annotations = r.props.metadata?.annotations ?? {};
      const fronted =
        (type === "NodePort" && Boolean(annotations[FRONTED_BY])) ||
        (type === "LoadBalancer" && annotations[REQUIRES_AUTH] === "jwt" && guarded.has(String(r.props.metadata?.name)));
      if (
        r.type === "kubernetes:core/v1:Service" &&
        (kind === "function" || kind === "model") &&
        ["LoadBalancer", "NodePort"].includes(type) &&
        !fronted
      ) {
        report(
          `Service ${r.name} exposes a ${kind} as ${type}; make it ClusterIP and reach it through the gateway, front its node port with an IAM-authenticated API and annotate ${FRONTED_BY}, or make its pods require the gateway's JWT (${JWT_ENV.jwks}) and annotate ${REQUIRES_AUTH}: jwt`,
          r.urn,
        );
      }
      if (r.type === "aws:lambda/functionUrl:FunctionUrl" && r.props.authorizationType !== "AWS_IAM") {
        report(
          `Function URL ${r.name} has authorizationType ${r.props.authorizationType}; set AWS_IAM (the gateway signs with SigV4)`,
          r.urn,
        );
      }
      if (r.type === "aws:apigatewayv2/route:Route" && (r.props.authorizationType ?? "NONE") === "NONE") {
        report(`API Gateway route ${r.name} has no authorizer; set authorizationType AWS_IAM or JWT`, r.urn);
      }
      if (r.type === "alicloud:fc/v3Trigger:V3Trigger" && r.props.triggerType === "http" && !gateways.has(String(r.props.functionName))) {
        const authType = triggerAuthType(r.props.triggerConfig);
        if (authType !== "function" && authType !== "jwt")
          report(`FC trigger ${r.name} allows anonymous calls; set triggerConfig.authType to "function" or "jwt"`, r.urn);
      }
    }
  },
};
