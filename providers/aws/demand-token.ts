/**
 * Lambda functions' calls to GPU models on EKS that hold requests count in
 * those models' demand, as function pods' calls do on Kubernetes
 * (providers/kubernetes/demand-reports.ts): so a model that only functions
 * call wakes from zero on the calls they hold. Such a function gets the
 * report URL of its own region's gateway (`CLOUDLOOM_DEMAND_REPORT_URL`: its
 * load balancer's DEMAND_REPORT_PATH, or, with certificates, the gateway
 * domain's) and the token among its declared secrets, in its own Secrets
 * Manager secret, never in its configuration (runtime/serverless/lambda.ts
 * reads it at cold start). Every region's gateway gets the same token from a
 * Secrets Manager secret in its region, as it gets its API keys (the ECS
 * task's `secrets`). The token is `cloudloom:demandToken`, else generated
 * once per stack (stack-token.ts), so later runs never rotate it under
 * running gateways and functions.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Secret } from "@pulumi/aws/secretsmanager";
import { DEMAND_REPORT_PATH, RUNTIME_ENV } from "../../runtime/contract";
import { calledModelRegion, holdLimits, type SpecV1 } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { AwsContext } from "./context";
import { keptSecret } from "./kept-secret";
import { clusterRegions } from "./networks";
import { stackToken } from "./stack-token";

/** The stack's token, and its secret in each region that has one. */
interface DemandTokens {
  token: pulumi.Output<string>;
  secrets: Map<string, Secret>;
}

/** By app being built: its token, once some function reports. */
const built = new WeakMap<AwsContext, DemandTokens>();

/** What a function reports its calls with: plain variables, and secrets (by variable) for its Secrets Manager secret. */
export interface DemandReportSettings {
  environment: Record<string, pulumi.Input<string>>;
  secrets: Record<string, pulumi.Input<string>>;
}

/** True when function `fnName` in `region` calls a model whose policy holds requests and which it reaches on an EKS cluster. */
export function callsHoldingClusterModel(spec: SpecV1, fnName: string, region: string): boolean {
  const clusters = new Set(clusterRegions(spec));
  return spec.functions[fnName].models.some((key) => {
    const model = spec.models[key];
    return model.pool !== undefined && holdLimits(spec, "model", key) !== undefined && clusters.has(calledModelRegion(model, region));
  });
}

/** A Secrets Manager secret in `region` holding the token, for its gateway. */
function tokenSecret(context: AwsContext, region: string, value: pulumi.Input<string>): Secret {
  const name = resourceName(context.name, region, "demand-token");
  const tags = entryLabels(context.spec.app, "gateway", region);
  const opts = { parent: context.parent, provider: context.regions.get(region)!.provider };
  return keptSecret(name, { description: `cloudloom demand reports' token (${context.spec.app}, ${region})`, tags }, value, opts).secret;
}

/** The stack's token and the secrets of the gateway regions that read it so far, once some function reports. */
function demandTokens(context: AwsContext): DemandTokens {
  let tokens = built.get(context);
  if (!tokens) {
    const token = stackToken(
      context,
      "demandToken",
      context.args.demandToken,
      "the reports of functions' calls to models, which the gateways accept",
    );
    tokens = { token, secrets: new Map() };
    built.set(context, tokens);
  }
  return tokens;
}

/**
 * What function `fnName` in `region` reports its calls with: its region's
 * gateway URL among `gateways()` (demandGateways: every gateway region's, or
 * the gateway domain's with certificates), and the token as a secret; nothing
 * when it calls no holding model on a cluster, or no gateway can be reached
 * (certificates without a domain).
 */
export function demandReport(
  context: AwsContext,
  fnName: string,
  region: string,
  gateways: () => pulumi.Output<string>[],
): DemandReportSettings {
  if (!callsHoldingClusterModel(context.spec, fnName, region)) return { environment: {}, secrets: {} };
  const urls = gateways();
  if (urls.length === 0) return { environment: {}, secrets: {} };
  const base = context.gatewayAddresses?.of(region) ?? urls[0];
  return {
    environment: { [RUNTIME_ENV.demandReportUrl]: pulumi.interpolate`${base}${DEMAND_REPORT_PATH}` },
    secrets: { [RUNTIME_ENV.demandToken]: demandTokens(context).token },
  };
}

/**
 * The secret `region`'s gateway reads the token from (the ECS task's
 * `secrets`), created on first use; undefined when no function reports
 * (the functions step runs before the gateway step).
 */
export function gatewayDemandToken(context: AwsContext, region: string): Secret | undefined {
  const tokens = built.get(context);
  if (!tokens) return undefined;
  let secret = tokens.secrets.get(region);
  if (!secret) {
    secret = tokenSecret(context, region, tokens.token);
    tokens.secrets.set(region, secret);
  }
  return secret;
}
