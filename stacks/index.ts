/**
 * The Pulumi program (`pulumi up` at the repository root). Stack config:
 *   cloudloom:target   aws | alicloud | kubernetes
 *   cloudloom:app      path of the app module, e.g. examples/support-desk
 *   plus the target's own settings (see providers/<target>/README.md).
 * The spec is validated for the target before any resource is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { secretValues } from "../providers/registry";
import { runStack } from "./program";

const config = new pulumi.Config("cloudloom");

/** Every endpoint the gateway needs; `cloudloom gateway config` turns it into the gateway's endpoints file. */
export const endpoints = runStack({
  target: config.require("target"),
  app: config.require("app"),
  get: (key) => config.get(key),
  getSecret: (key) => config.getSecret(key),
  secretKeys: (key) => {
    const raw = pulumi.runtime.getConfig(`cloudloom:${key}`);
    return raw === undefined ? undefined : Object.keys(secretValues(raw, key));
  },
});
