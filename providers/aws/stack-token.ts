/**
 * The tokens a stack's gateways take on AWS (`cloudloom:metricsToken`,
 * `cloudloom:demandToken`): the configured one (checked), else one generated
 * once per stack into a Secrets Manager secret of its own in the app's first
 * central region, kept there by ignoreChanges. Whoever needs it (a gateway
 * region's own secret, a cluster's Kubernetes Secret, a function's secrets)
 * copies it from that secret's state, so a region, cluster or function added
 * later holds what those already running hold.
 */
import * as pulumi from "@pulumi/pulumi";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { checkStackToken, generatedToken, type StackTokenSetting } from "../shared/stack-token";
import type { AwsContext } from "./context";
import { keptSecret } from "./kept-secret";

/** Per app being built, each token made so far. */
const made = new WeakMap<AwsContext, Map<StackTokenSetting, pulumi.Output<string>>>();

/** How each token's generated secret is named, and what its description calls it. */
const KEPT: Record<StackTokenSetting, { suffix: string; what: string }> = {
  metricsToken: { suffix: "metrics-token", what: "metrics token" },
  demandToken: { suffix: "demand-token", what: "demand reports' token" },
};

/** The region that keeps a generated token: the first central region, else the first. */
function homeRegion(spec: AwsContext["spec"]): string {
  const regions = Object.keys(spec.regions);
  return regions.find((region) => spec.regions[region].kind === "central") ?? regions[0];
}

/**
 * The stack's token for `setting` (a Pulumi secret), made by whichever step
 * asks first: `configured` when the stack sets it, else generated once.
 * `purpose` says in the secret's description what takes it.
 */
export function stackToken(
  context: AwsContext,
  setting: StackTokenSetting,
  configured: pulumi.Input<string> | undefined,
  purpose: string,
): pulumi.Output<string> {
  let tokens = made.get(context);
  if (!tokens) made.set(context, (tokens = new Map()));
  let token = tokens.get(setting);
  if (!token) {
    token =
      configured === undefined
        ? generatedStackToken(context, setting, purpose)
        : pulumi.secret(pulumi.output(configured).apply((value) => checkStackToken(setting, value)));
    tokens.set(setting, token);
  }
  return token;
}

function generatedStackToken(context: AwsContext, setting: StackTokenSetting, purpose: string): pulumi.Output<string> {
  const region = homeRegion(context.spec);
  const { suffix, what } = KEPT[setting];
  const name = resourceName(context.name, suffix);
  const child = { parent: context.parent, provider: context.regions.get(region)!.provider };
  const { version } = keptSecret(
    name,
    { description: `cloudloom ${what} (${context.spec.app}): ${purpose}`, tags: entryLabels(context.spec.app, "gateway", suffix) },
    pulumi.secret(generatedToken()),
    child,
    // Later runs generate another, which must not replace the token everything running holds.
    { ...child, ignoreChanges: ["secretString"] },
  );
  return pulumi.secret(version.secretString.apply((token) => token!));
}
