/**
 * A value kept in Secrets Manager: a secret and its one version, named alike.
 * Whatever reads the value (an ECS task's `secrets`, a function's runtime at
 * cold start, ElastiCache's AUTH token) reads it from there, so it never sits
 * in a resource's configuration.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Secret, SecretVersion } from "@pulumi/aws/secretsmanager";

/** What the secret says of itself. */
export interface KeptSecretArgs {
  description: pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * The secret `name` holding `value`, and its version. `versionOptions` are
 * the version's own (ignoreChanges keeps a generated value), else `options`.
 */
export function keptSecret(
  name: string,
  args: KeptSecretArgs,
  value: pulumi.Input<string>,
  options: pulumi.CustomResourceOptions,
  versionOptions: pulumi.CustomResourceOptions = options,
): { secret: Secret; version: SecretVersion } {
  const secret = new Secret(name, args, options);
  const version = new SecretVersion(name, { secretId: secret.id, secretString: value }, versionOptions);
  return { secret, version };
}
