/**
 * The Pulumi program as a function for a user's own project (`cloudloom/pulumi`).
 * The project may have any name; its `index.ts` is
 *
 * ```ts
 * import { cloudloomStack } from "cloudloom/pulumi";
 * export const { endpoints, gatewayUrl } = cloudloomStack();
 * ```
 *
 * Each setting is read from the project's own namespace first (`<project>:target`,
 * which its Pulumi.yaml may declare in a typed `config:` block), then from
 * `cloudloom:` (`cloudloom:target`, as `cloudloom plan --stack-config` reads it).
 *   target   aws | alicloud | kubernetes
 *   app      the app module, relative to the Pulumi project (default: `.`, its app.ts)
 *   plus the target's own settings (see the providers' READMEs).
 */
import * as pulumi from "@pulumi/pulumi";
import { secretValues } from "../providers/registry";
import { runStack } from "./program";

/** Options of {@link cloudloomStack}; each overrides the stack config. */
export interface CloudloomStackOptions {
  /** aws | alicloud | kubernetes. */
  target?: string;
  /** The app module, relative to `projectDir`. */
  app?: string;
  /** The directory `app` is relative to. @default process.cwd(): the Pulumi project's folder under `pulumi up` */
  projectDir?: string;
  /** Options for the app's component resource (a parent, providers, aliases). */
  resourceOptions?: pulumi.ComponentResourceOptions;
}

/** The app's outputs: the gateway's public URL (`gatewayUrl`) and every endpoint it reaches (`endpoints`). */
export function cloudloomStack(options: CloudloomStackOptions = {}): ReturnType<typeof runStack> {
  const own = new pulumi.Config();
  const shared = new pulumi.Config("cloudloom");
  const get = (key: string) => own.get(key) ?? shared.get(key);
  const target = options.target ?? get("target");
  if (!target)
    throw new pulumi.RunError(
      `no target: set one with \`pulumi config set target kubernetes\` (or aws, alicloud), or pass cloudloomStack({ target })`,
    );
  return runStack(
    {
      target,
      app: options.app ?? get("app") ?? ".",
      projectDir: options.projectDir ?? process.cwd(),
      get,
      getSecret: (key) => own.getSecret(key) ?? shared.getSecret(key),
      secretKeys: (key) => {
        const raw = pulumi.runtime.getConfig(`${pulumi.getProject()}:${key}`) ?? pulumi.runtime.getConfig(`cloudloom:${key}`);
        return raw === undefined ? undefined : Object.keys(secretValues(raw, key));
      },
    },
    options.resourceOptions,
  );
}
