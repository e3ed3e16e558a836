/**
 * Function pods' calls to models that hold requests count in those models'
 * demand: a pod reports its calls, held and in flight, to the in-cluster
 * gateway (DEMAND_REPORT_PATH, runtime/model-call-demand.ts), which adds them
 * to the count each model's KEDA metrics-api trigger reads. So a model that
 * only functions call is woken from zero by the calls they hold. The pods and
 * the gateway share a token from one Secret (stack-token.ts); the network
 * policies let function pods reach the gateway's port.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as input from "@pulumi/kubernetes/types/input";
import { DEMAND_REPORT_PATH, RUNTIME_ENV } from "../../runtime/contract";
import { holdLimits } from "../../sdk/spec";
import type { KubernetesContext } from "./context";
import { inClusterGatewayUrl } from "./gateway-service";
import { stackTokenEnv, stackTokenSecret } from "./stack-token";

/** True when function `name`'s pods report calls: it calls a model that holds, and the gateway runs in the cluster. */
export function reportsModelCalls(context: KubernetesContext, name: string): boolean {
  return Boolean(context.args.gateway) && context.spec.functions[name].models.some((key) => holdLimits(context.spec, "model", key));
}

/** True when some function's pods report calls (they then reach the gateway, which accepts them). */
export function anyReportsModelCalls(context: KubernetesContext): boolean {
  return Object.keys(context.spec.functions).some((name) => reportsModelCalls(context, name));
}

/**
 * The Secret holding the reports' token (`cloudloom:demandToken`, else generated
 * once: see stack-token.ts); undefined when no function reports.
 */
export function demandTokenSecret(context: KubernetesContext): pulumi.Output<string> | undefined {
  return anyReportsModelCalls(context) ? stackTokenSecret(context, "demandToken", context.args.demandToken) : undefined;
}

/** The variable giving a container the reports' token from `secretName`. */
export const demandTokenEnv = (secretName: pulumi.Input<string>): input.core.v1.EnvVar =>
  stackTokenEnv(RUNTIME_ENV.demandToken, secretName);

/** What function `name`'s pods report with: the gateway's report URL and the token, or nothing when they do not report. */
export function demandReportEnv(context: KubernetesContext, name: string): input.core.v1.EnvVar[] {
  const secretName = reportsModelCalls(context, name) ? demandTokenSecret(context) : undefined;
  if (!secretName) return [];
  return [{ name: RUNTIME_ENV.demandReportUrl, value: inClusterGatewayUrl(context, DEMAND_REPORT_PATH) }, demandTokenEnv(secretName)];
}
