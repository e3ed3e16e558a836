/**
 * Tokens the stack config may set (`cloudloom:demandToken`,
 * `cloudloom:metricsToken`), else generated once per stack, each kept in a
 * Secret of its own that every container and scaler using it references:
 * no token ever sits in a resource's plain input. A configured token rotates
 * when the setting changes; a generated one is kept by ignoreChanges, so later
 * runs never rotate it under running pods.
 */
import * as pulumi from "@pulumi/pulumi";
import * as core from "@pulumi/kubernetes/core/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import { fillInAnnotation } from "../shared/fill-in";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { checkStackToken, generatedToken, type StackTokenSetting } from "../shared/stack-token";
import type { KubernetesContext } from "./context";

/** The key of a token in its Secret. */
export const STACK_TOKEN_KEY = "token";

/** What a setting's Secret is called after the app: `demandToken` → `<app>-demand-token`. */
const secretPart = (setting: StackTokenSetting): string => setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The name of the Secret holding `setting`'s token, created by whichever step
 * asks first: the configured value (`configured`, checked), else 24 random
 * bytes in hex (generatedToken), kept by ignoreChanges.
 */
export function stackTokenSecret(
  context: KubernetesContext,
  setting: StackTokenSetting,
  configured: pulumi.Input<string> | undefined,
): pulumi.Output<string> {
  context.tokenSecrets ??= new Map();
  let name = context.tokenSecrets.get(setting);
  if (!name) {
    const part = secretPart(setting);
    const secretName = resourceName(context.name, part);
    const token = configured === undefined ? generatedToken() : pulumi.output(configured).apply((v) => checkStackToken(setting, v));
    const secret = new core.Secret(
      secretName,
      {
        metadata: {
          name: secretName,
          namespace: context.namespace!,
          labels: entryLabels(context.spec.app, "gateway", part),
          annotations: fillInAnnotation({ [STACK_TOKEN_KEY]: `cloudloom:${setting} (16+ characters, e.g. openssl rand -hex 24)` }),
        },
        type: "Opaque",
        stringData: { [STACK_TOKEN_KEY]: pulumi.secret(token) },
      },
      { ...context.child, ignoreChanges: configured === undefined ? ["stringData"] : [] },
    );
    name = secret.metadata.name;
    context.tokenSecrets.set(setting, name);
  }
  return name;
}

/** The variable `variable` giving a container the token in Secret `secretName`. */
export function stackTokenEnv(variable: string, secretName: pulumi.Input<string>): input.core.v1.EnvVar {
  return { name: variable, valueFrom: { secretKeyRef: { name: secretName, key: STACK_TOKEN_KEY } } };
}
