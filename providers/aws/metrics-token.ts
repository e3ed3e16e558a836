/**
 * The token the gateways' metrics (`/metrics`, DEMAND_PATH) take on AWS:
 * `cloudloom:metricsToken`, else generated once per stack (stack-token.ts).
 * Every region's gateway gets it from a secret of its own region (ECS's
 * `secrets`, never its environment), and every cluster whose KEDA reads the
 * gateways' demand (EKS models, a Wavelength zone) keeps it in a Kubernetes
 * Secret.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "./context";
import { stackToken } from "./stack-token";

/** The stack's metrics token (a Pulumi secret), made by whichever step asks first. */
export function metricsToken(context: AwsContext): pulumi.Output<string> {
  return stackToken(context, "metricsToken", context.args.gateway?.metricsToken, "the gateways' /metrics and /metrics/demand");
}
