/**
 * The gateway's metrics (`/metrics`, DEMAND_PATH) take a token
 * (`cloudloom:metricsToken`, else generated once: stack-token.ts), kept in a
 * Secret: the gateway reads it from there, Prometheus's ServiceMonitor
 * presents it from there, and so do KEDA's metrics-api triggers, through a
 * TriggerAuthentication. An EKS or ACK part of another target's app is given
 * the token of the gateways it reads, and keeps it in its own Secret.
 */
import type * as pulumi from "@pulumi/pulumi";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import type * as input from "@pulumi/kubernetes/types/input";
import { RUNTIME_ENV } from "../../runtime/contract";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { STACK_TOKEN_KEY, stackTokenEnv, stackTokenSecret } from "./stack-token";

/** The Secret holding the metrics token. */
export function metricsTokenSecret(context: KubernetesContext): pulumi.Output<string> {
  return stackTokenSecret(context, "metricsToken", context.args.metricsToken);
}

/** The variable giving the gateway the metrics token from `secretName`. */
export const metricsTokenEnv = (secretName: pulumi.Input<string>): input.core.v1.EnvVar =>
  stackTokenEnv(RUNTIME_ENV.metricsToken, secretName);

/**
 * The TriggerAuthentication (KEDA) giving the metrics-api triggers on the
 * gateways' DEMAND_PATH the metrics token as their Bearer `token`, created
 * once by whichever workload asks first.
 */
export function metricsAuthentication(context: KubernetesContext): pulumi.Output<string> {
  if (!context.metricsAuthentication) {
    const name = resourceName(context.name, "metrics-token");
    const authentication = new CustomResource(
      name,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "TriggerAuthentication",
        metadata: { name, namespace: context.namespace!, labels: entryLabels(context.spec.app, "gateway", "metrics-token") },
        spec: { secretTargetRef: [{ parameter: "token", name: metricsTokenSecret(context), key: STACK_TOKEN_KEY }] },
      },
      context.child,
    );
    context.metricsAuthentication = authentication.metadata.name;
  }
  return context.metricsAuthentication;
}
