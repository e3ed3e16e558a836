/**
 * FC functions' calls to models on ACK that hold requests count in those
 * models' demand, as function pods' calls do on Kubernetes
 * (providers/kubernetes/demand-reports.ts): so a model that only functions
 * call wakes from zero on the calls they hold. Such a function reports to
 * `<dnsRecord>.<dnsDomain>` (`cloudloom:dnsDomain`), which resolves to a
 * gateway whose demand the model's KEDA triggers read (they read every
 * gateway's), and gets the name of its region's KMS secret holding the
 * token, which its role may read and its runtime reads at cold start
 * (fc.ts), as it reads the JWT key; every gateway gets the same token the
 * way it gets its API keys. The token is `cloudloom:demandToken`, else
 * derived from the JWT key (as the gateways' Redis password is): stable
 * across runs, stored nowhere but in KMS.
 *
 * Without a domain a function has no gateway URL to report to: a gateway's
 * trigger URL is known only once the gateway exists, and the gateway is
 * created after the functions, whose trigger URLs its endpoints file lists.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEMAND_REPORT_PATH, RUNTIME_ENV } from "../../runtime/contract";
import { holdLimits, type SpecV1 } from "../../sdk/spec";
import { onAck } from "./ack-settings";
import type { AlicloudContext } from "./context";
import { gatewayDomainUrl } from "./gateway-settings";
import { kmsSecrets, stackTokenOf, type KmsSecretRef } from "./secrets";

/** What a function reports its calls with: plain variables, and KMS secrets by variable (merged into declaredSecretsEnvironment's map). */
export interface DemandReportSettings {
  environment: Record<string, pulumi.Input<string>>;
  kms: Record<string, KmsSecretRef>;
}

/** By app being built, once some function reports: the token's KMS secret in a region, created on first use. */
const built = new WeakMap<AlicloudContext, (region: string) => KmsSecretRef>();

/** True when function `fnName` calls a model whose policy holds requests and which runs on ACK. */
export function callsHoldingAckModel(spec: SpecV1, fnName: string): boolean {
  return spec.functions[fnName].models.some((key) => onAck(spec, key) && holdLimits(spec, "model", key) !== undefined);
}

/** The token's KMS secret in a region: `cloudloom:demandToken` (checked), else derived from the JWT key. */
function tokenSecrets(context: AlicloudContext): (region: string) => KmsSecretRef {
  let secretIn = built.get(context);
  if (!secretIn) {
    const token = stackTokenOf(context.args, "demandToken");
    const create = kmsSecrets(context);
    secretIn = (region) => create(region, "demand-token", token, "the token of functions' demand reports, which the gateway accepts");
    built.set(context, secretIn);
  }
  return secretIn;
}

/**
 * What function `fnName` in `region` reports its calls with: the gateway
 * domain's report URL and the token's KMS secret in its region; nothing when
 * it calls no holding model on ACK or the stack sets no `cloudloom:dnsDomain`.
 */
export function demandReport(context: AlicloudContext, fnName: string, region: string): DemandReportSettings {
  const domain = gatewayDomainUrl(context.args);
  if (!domain || !callsHoldingAckModel(context.spec, fnName)) return { environment: {}, kms: {} };
  return {
    environment: { [RUNTIME_ENV.demandReportUrl]: `${domain}${DEMAND_REPORT_PATH}` },
    kms: { [RUNTIME_ENV.demandToken]: tokenSecrets(context)(region) },
  };
}

/** The token's KMS secret in `region`, for its gateway; undefined when no function reports (the functions step runs before the gateway step). */
export function gatewayDemandToken(context: AlicloudContext, region: string): KmsSecretRef | undefined {
  return built.get(context)?.(region);
}
