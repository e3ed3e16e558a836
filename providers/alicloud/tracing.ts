/**
 * Tracing on Alibaba Cloud (stack config `cloudloom:tracing`): what one
 * traced process in a region gets. The plain OTEL_* variables go in its
 * configuration; the export headers (a collector's API key) stay in the
 * region's KMS secret, which the process is named (`CLOUDLOOM_KMS_SECRETS`,
 * merged with its other secrets) and reads at start with a role, or an ENS
 * instance's RAM user, allowed to read exactly that secret.
 */
import { tracingEnvironment, TRACING_HEADERS_ENV } from "../shared/tracing";
import type { AlicloudContext } from "./context";
import { declaredSecretsEnvironment, type KmsSecretRef } from "./secrets";

/** A traced process's share of tracing: its plain variables, and its KMS secrets by variable (merged into declaredSecretsEnvironment's map). */
export interface AlicloudTracing {
  environment: Record<string, string>;
  kms: Record<string, KmsSecretRef>;
}

/** What a traced process in `region` gets: nothing without tracing. */
export function tracingIn(context: AlicloudContext, region: string): AlicloudTracing {
  const tracing = context.args.tracing;
  return {
    environment: tracingEnvironment(tracing, context.spec.app),
    kms: tracing?.headers ? { [TRACING_HEADERS_ENV]: context.tracingHeadersSecret(region) } : {},
  };
}

/**
 * The variables of a process that has no other KMS secret (a model's function): the plain ones and the
 * name of the headers' secret (never its value); and the secrets its role must be allowed to read.
 */
export function tracingVariables(tracing: AlicloudTracing | undefined): { environment: Record<string, string>; secrets: KmsSecretRef[] } {
  if (!tracing) return { environment: {}, secrets: [] };
  return { environment: { ...tracing.environment, ...declaredSecretsEnvironment(tracing.kms) }, secrets: Object.values(tracing.kms) };
}
