/**
 * The Pulumi program (`pulumi up` at the repository root). Stack config
 * (typed in Pulumi.yaml):
 *   cloudloom:target   aws | alicloud | kubernetes
 *   cloudloom:app      path of the app module, relative to the project, e.g. examples/support-desk
 *   plus the target's own settings (see providers/<target>/README.md).
 * The spec is validated for the target before any resource is created. A
 * user's own project runs the same program through `cloudloom/pulumi`.
 */
import { cloudloomStack } from "./pulumi";

/** Every endpoint the gateway needs; `cloudloom gateway config` turns it into the gateway's endpoints file. */
export const endpoints = cloudloomStack();
