/**
 * The token the gateways' metrics (`/metrics`, DEMAND_PATH) take on AWS:
 * `cloudloom:metricsToken`, else generated once per stack into a Secrets
 * Manager secret of its own in the app's first central region, kept there by
 * ignoreChanges. Every region's gateway gets it from a secret of its own
 * region (ECS's `secrets`, never its environment), and every cluster whose
 * KEDA reads the gateways' demand (EKS models, a Wavelength zone) keeps it in
 * a Kubernetes Secret. One value for the stack: a region or cluster added
 * later reads the same token as those already running.
 */
import * as pulumi from "@pulumi/pulumi";
import { Secret, SecretVersion } from "@pulumi/aws/secretsmanager";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { checkStackToken, generatedToken } from "../shared/stack-token";
import type { AwsContext } from "./context";

/** The stack's metrics token (a Pulumi secret), made by whichever step asks first. */
export function metricsToken(context: AwsContext): pulumi.Output<string> {
  if (!context.metricsToken) {
    const configured = context.args.gateway?.metricsToken;
    context.metricsToken =
      configured === undefined
        ? generatedMetricsToken(context)
        : pulumi.secret(pulumi.output(configured).apply((value) => checkStackToken("metricsToken", value)));
  }
  return context.metricsToken;
}

/** The region that keeps a generated token: the first central region, else the first. */
function homeRegion(spec: AwsContext["spec"]): string {
  const regions = Object.keys(spec.regions);
  return regions.find((region) => spec.regions[region].kind === "central") ?? regions[0];
}

function generatedMetricsToken(context: AwsContext): pulumi.Output<string> {
  const region = homeRegion(context.spec);
  const name = resourceName(context.name, "metrics-token");
  const child = { parent: context.parent, provider: context.regions.get(region)!.provider };
  const secret = new Secret(
    name,
    {
      description: `cloudloom metrics token (${context.spec.app}): the gateways' /metrics and /metrics/demand`,
      tags: entryLabels(context.spec.app, "gateway", "metrics-token"),
    },
    child,
  );
  const version = new SecretVersion(
    name,
    { secretId: secret.id, secretString: pulumi.secret(generatedToken()) },
    // Later runs generate another, which must not replace the token every gateway and cluster holds.
    { ...child, ignoreChanges: ["secretString"] },
  );
  return pulumi.secret(version.secretString.apply((token) => token!));
}
