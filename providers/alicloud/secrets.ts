/**
 * Secrets of an Alibaba Cloud stack in KMS Secrets Manager, never in a
 * function's configuration: per region that needs them, one `kms.Secret`
 * holding the gateway's JWT private key, one per declared function secret,
 * one holding the tracing collector's export headers, and one holding the
 * token the gateway's metrics take.
 * Each function that signs JWTs (the gateway, functions calling JWT-guarded
 * models) gets only the key's secret name (`CLOUDLOOM_JWT_PRIVATE_KEY_SECRET`),
 * each function with declared secrets only their names
 * (`CLOUDLOOM_KMS_SECRETS`), and a RAM policy on its own role allowing
 * `kms:GetSecretValue` on exactly those secrets. The runtime reads it
 * at cold start (runtime/serverless/alicloud-secrets.ts).
 */
import { createHash, createHmac } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { getAccountOutput } from "@pulumi/alicloud";
import { Secret } from "@pulumi/alicloud/kms";
import { Policy, Role, RolePolicyAttachment } from "@pulumi/alicloud/ram";
import { ALICLOUD_SECRETS_ENV, RUNTIME_ENV } from "../../runtime/contract";
import { entryLabels } from "../shared/labels";
import { dnsSafe, resourceName } from "../shared/naming";
import { checkStackToken, type StackTokenSetting } from "../shared/stack-token";
import type { AlicloudContext } from "./context";

/** One region's KMS secret holding the JWT private key. */
export interface KmsSecretRef {
  /** The secret's name, which functions get in their environment. */
  secretName: string;
  /** `acs:kms:<region>:<account>:secret/<name>`: the only resource its readers may read. */
  resource: pulumi.Output<string>;
  /** The Alibaba Cloud region it lives in. */
  alicloudRegion: string;
  secret: Secret;
}

/** A version id of a secret value that changes with the value and reveals nothing of it. */
export function secretVersionId(value: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.unsecret(pulumi.output(value).apply((data) => `v-${createHash("sha256").update(data).digest("hex").slice(0, 16)}`));
}

/** Creates, once per key, the KMS secret `<app>-<region>-<label>` in a region holding `value`. */
export function kmsSecrets(
  context: AlicloudContext,
): (region: string, label: string, value: pulumi.Input<string>, description: string) => KmsSecretRef {
  const { name, spec, parent } = context;
  const created = new Map<string, KmsSecretRef>();
  return (region, label, value, description) => {
    const key = `${region}/${label}`;
    if (created.has(key)) return created.get(key)!;
    const { provider, alicloudRegion } = context.regions.get(region)!;
    const secretName = resourceName(name, region, label);
    const secret = new Secret(
      secretName,
      {
        secretName,
        secretData: pulumi.secret(value),
        versionId: secretVersionId(value),
        secretDataType: "text",
        description: `cloudloom ${spec.app}: ${description}`,
        recoveryWindowInDays: 7,
        tags: entryLabels(spec.app, "app", spec.app),
      },
      { parent, provider },
    );
    const account = getAccountOutput({ provider, parent });
    const resource = pulumi.interpolate`acs:kms:${alicloudRegion}:${account.id}:secret/${secretName}`;
    const ref = { secretName, resource, alicloudRegion, secret };
    created.set(key, ref);
    return ref;
  };
}

/** A value derived from `secret` for `purpose` (HMAC-SHA256, hex): stable across runs and regions, revealing nothing of the secret. */
export function derivedSecret(secret: string, purpose: string): string {
  return createHmac("sha256", secret).update(purpose).digest("hex");
}

/** What each stack token is derived for (derivedSecret's purpose, with the app's name). */
const DERIVED_FOR: Record<StackTokenSetting, string> = { metricsToken: "metrics", demandToken: "demand-token" };

/**
 * A token the stack's gateways take (`cloudloom:metricsToken`, `cloudloom:demandToken`): the configured
 * one (checked), else derived from the JWT key (as the gateways' Redis password is), so every region's
 * gateway, every ACK cluster and every function holds the same one without it ever sitting in config.
 */
export function stackTokenOf(args: AlicloudContext["args"], setting: StackTokenSetting): pulumi.Output<string> {
  const configured = args[setting];
  return pulumi.secret(
    configured === undefined
      ? pulumi.output(args.jwtPrivateKey!).apply((key) => derivedSecret(key, `${DERIVED_FOR[setting]}:${args.spec.app}`))
      : pulumi.output(configured).apply((value) => checkStackToken(setting, value)),
  );
}

/** The KMS secrets of an app: the JWT private key per region, and each declared function secret per region, created on first use. */
export function appSecrets(context: AlicloudContext): {
  jwtKey: (region: string) => KmsSecretRef;
  declared: (region: string, secret: string) => KmsSecretRef;
  apiKeys: (region: string, keys: pulumi.Input<pulumi.Input<string>[]>) => KmsSecretRef;
  tracingHeaders: (region: string) => KmsSecretRef;
  metricsToken: (region: string) => KmsSecretRef;
} {
  const create = kmsSecrets(context);
  const { args } = context;
  return {
    jwtKey: (region) => create(region, "jwt-private-key", args.jwtPrivateKey!, "the PEM of the key the gateway signs backend JWTs with"),
    declared: (region, secret) =>
      create(
        region,
        `secret-${dnsSafe(secret)}`,
        pulumi.output(args.secrets!.values).apply((values) => values[secret]),
        `the value of secret ${secret} (stack config cloudloom:secrets)`,
      ),
    apiKeys: (region, keys) =>
      create(
        region,
        "api-keys",
        pulumi.output(keys).apply((all) => all.join(",")),
        "the API keys the gateway accepts (stack config cloudloom:apiKeys)",
      ),
    tracingHeaders: (region) =>
      create(
        region,
        "tracing-headers",
        args.tracing!.headers!,
        "the tracing collector's export headers (stack config cloudloom:tracingHeaders)",
      ),
    metricsToken: (region) =>
      create(
        region,
        "metrics-token",
        stackTokenOf(args, "metricsToken"),
        "the token the gateways' metrics take (stack config cloudloom:metricsToken)",
      ),
  };
}

/** The environment a function reading the JWT key gets: the secret's name and its region, no value. */
export function jwtKeyEnvironment(ref: KmsSecretRef): Record<string, string> {
  return { [RUNTIME_ENV.jwtPrivateKeySecret]: ref.secretName, [ALICLOUD_SECRETS_ENV.region]: ref.alicloudRegion };
}

/** The environment a function with declared secrets gets: variable → KMS secret name, and the region; no value. */
export function declaredSecretsEnvironment(refs: Record<string, KmsSecretRef>): Record<string, string> {
  const entries = Object.entries(refs);
  if (entries.length === 0) return {};
  return {
    [RUNTIME_ENV.kmsSecrets]: JSON.stringify(Object.fromEntries(entries.map(([variable, ref]) => [variable, ref.secretName]))),
    [ALICLOUD_SECRETS_ENV.region]: entries[0][1].alicloudRegion,
  };
}

/** The policy `<name>-secrets`: `kms:GetSecretValue` on exactly `refs`' secrets. */
export function secretReadPolicy(
  name: string,
  refs: KmsSecretRef[],
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): Policy {
  const unique = [...new Map(refs.map((ref) => [ref.secretName, ref])).values()];
  return new Policy(
    `${name}-secrets`,
    {
      policyName: `${name}-secrets`,
      policyDocument: pulumi
        .all(unique.map((ref) => ref.resource))
        .apply((resources) =>
          JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Action: ["kms:GetSecretValue"], Resource: resources }] }),
        ),
      tags,
    },
    opts,
  );
}

/** The secrets `refs` names, once each: what reading them depends on. */
export function secretResources(refs: KmsSecretRef[]): pulumi.Resource[] {
  return [...new Map(refs.map((ref) => [ref.secretName, ref.secret])).values()];
}

/** Allows `role` `kms:GetSecretValue` on exactly `refs`' secrets (`<name>-secrets` policy and its attachment). */
export function allowSecretRead(
  name: string,
  role: Role,
  refs: KmsSecretRef[],
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): RolePolicyAttachment {
  const read = secretReadPolicy(name, refs, tags, opts);
  return new RolePolicyAttachment(
    `${name}-secrets`,
    { roleName: role.roleName, policyName: read.policyName, policyType: "Custom" },
    { ...opts, dependsOn: secretResources(refs) },
  );
}

/** A RAM role FC assumes for one function, with no permission of its own. */
export function fcRole(name: string, tags: Record<string, string>, opts: pulumi.CustomResourceOptions): Role {
  return new Role(
    `${name}-role`,
    {
      roleName: name,
      assumeRolePolicyDocument: JSON.stringify({
        Version: "1",
        Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: ["fc.aliyuncs.com"] } }],
      }),
      tags,
    },
    opts,
  );
}
