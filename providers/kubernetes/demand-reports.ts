/**
 * Function pods' calls to models that hold requests count in those models'
 * demand: a pod reports its calls, held and in flight, to the in-cluster
 * gateway (DEMAND_REPORT_PATH, runtime/model-call-demand.ts), which adds them
 * to the count each model's KEDA metrics-api trigger reads. So a model that
 * only functions call is woken from zero by the calls they hold. The pods and
 * the gateway share a token from one Secret, generated once; the network
 * policies let function pods reach the gateway's port.
 */
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as core from "@pulumi/kubernetes/core/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import { DEMAND_REPORT_PATH, RUNTIME_ENV } from "../../runtime/contract";
import { holdLimits } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import { fillInAnnotation } from "../shared/fill-in";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { inClusterGatewayUrl } from "./gateway-service";

/** The key of the token in its Secret. */
export const DEMAND_TOKEN_KEY = "token";

/** True when function `name`'s pods report calls: it calls a model that holds, and the gateway runs in the cluster. */
export function reportsModelCalls(context: KubernetesContext, name: string): boolean {
  return Boolean(context.args.gateway) && context.spec.functions[name].models.some((key) => holdLimits(context.spec, "model", key));
}

/** True when some function's pods report calls (they then reach the gateway, which accepts them). */
export function anyReportsModelCalls(context: KubernetesContext): boolean {
  return Object.keys(context.spec.functions).some((name) => reportsModelCalls(context, name));
}

/** Refuses a configured token the gateway would refuse (it takes 16 characters or more). */
export function checkDemandToken(value: string): string {
  if (value.trim().length < 16)
    throw new TargetConfigError(
      "stack config cloudloom:demandToken must be at least 16 characters; set it with: pulumi config set --secret cloudloom:demandToken $(openssl rand -hex 24)",
    );
  return value;
}

/**
 * The Secret holding the reports' token, created by whichever step asks first;
 * undefined when no function reports. The token is `cloudloom:demandToken`
 * (changing it rotates it), else generated with node:crypto (as the Redis
 * password is), and then ignoreChanges keeps the first one: later runs never
 * rotate it under running pods.
 */
export function demandTokenSecret(context: KubernetesContext): pulumi.Output<string> | undefined {
  if (!anyReportsModelCalls(context)) return undefined;
  if (!context.demandTokenSecret) {
    const name = resourceName(context.name, "demand-token");
    const configured = context.args.demandToken;
    const token = configured === undefined ? randomBytes(24).toString("hex") : pulumi.output(configured).apply(checkDemandToken);
    const secret = new core.Secret(
      name,
      {
        metadata: {
          name,
          namespace: context.namespace!,
          labels: entryLabels(context.spec.app, "gateway", "demand-token"),
          annotations: fillInAnnotation({ [DEMAND_TOKEN_KEY]: "cloudloom:demandToken (16+ characters, e.g. openssl rand -hex 24)" }),
        },
        type: "Opaque",
        stringData: { [DEMAND_TOKEN_KEY]: pulumi.secret(token) },
      },
      { ...context.child, ignoreChanges: configured === undefined ? ["stringData"] : [] },
    );
    context.demandTokenSecret = secret.metadata.name;
  }
  return context.demandTokenSecret;
}

/** The variable giving a container the reports' token from `secretName`. */
export function demandTokenEnv(secretName: pulumi.Input<string>): input.core.v1.EnvVar {
  return { name: RUNTIME_ENV.demandToken, valueFrom: { secretKeyRef: { name: secretName, key: DEMAND_TOKEN_KEY } } };
}

/** What function `name`'s pods report with: the gateway's report URL and the token, or nothing when they do not report. */
export function demandReportEnv(context: KubernetesContext, name: string): input.core.v1.EnvVar[] {
  const secretName = reportsModelCalls(context, name) ? demandTokenSecret(context) : undefined;
  if (!secretName) return [];
  return [{ name: RUNTIME_ENV.demandReportUrl, value: inClusterGatewayUrl(context, DEMAND_REPORT_PATH) }, demandTokenEnv(secretName)];
}
