/** How pods and KEDA inside the cluster reach the app's gateway: its Service's name and in-cluster URLs. */
import * as pulumi from "@pulumi/pulumi";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";

/** The name of the app's gateway workload, and of its Service. */
export function gatewayName(context: KubernetesContext): string {
  return resourceName(context.name, "gateway");
}

/** `path` (with its query) on the app's in-cluster gateway, through its Service's cluster DNS name. */
export function inClusterGatewayUrl(context: KubernetesContext, path: string): pulumi.Output<string> {
  // One apply per URL, not an interpolation's several Outputs: a large plan builds one per workload.
  const name = gatewayName(context);
  return context.namespace!.apply((namespace) => `http://${name}.${namespace}.svc.cluster.local${path}`);
}
