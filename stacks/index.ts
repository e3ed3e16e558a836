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

/**
 * The stack's outputs: `gatewayUrl`, where clients call the app (`cloudloom gateway url` prints it), and
 * `endpoints`, every backend the gateway reaches (`cloudloom gateway config` writes it as a gateway's file).
 */
export const { endpoints, gatewayUrl } = cloudloomStack();
