/** Models of GPU pools that ask for Kubernetes: placed on the region's ACK cluster through the Kubernetes module. */
import * as pulumi from "@pulumi/pulumi";
import type { Endpoint, SpecV1 } from "../../sdk/spec";
import { KubernetesApp } from "../kubernetes/app";
import { recordEndpoint } from "../shared/endpoints";
import { resourceName } from "../shared/naming";
import { modelsSpec } from "../shared/sub-spec";
import { JWT_ISSUER } from "../../runtime/contract";
import { onAck } from "./ack-settings";
import type { AlicloudContext } from "./context";
import { demandGateways } from "./gateway";
import { stackTokenOf } from "./secrets";

/** ACK's Service annotation choosing an internet or VPC-internal (intranet) load balancer. */
const ACK_LOAD_BALANCER_ADDRESS_TYPE = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type";

/** Models of Kubernetes-platform pools placed in `region`. */
export function ackModelsIn(spec: SpecV1, region: string): string[] {
  return Object.keys(spec.models)
    .filter((key) => onAck(spec, key) && spec.models[key].regions.includes(region))
    .sort();
}

/**
 * A region's ACK models: the Kubernetes module on the cluster, each model on
 * a VPC-internal load balancer whose pods require the gateway's JWT, fetching
 * its artifact from OSS with the GPU nodes' RAM role.
 */
export function placeAckModels(context: AlicloudContext, region: string): void {
  const { spec, args, name, parent } = context;
  const { cluster, pools, reader } = context.clusters.get(region)!;
  const { alicloudRegion } = context.regions.get(region)!;
  const keys = ackModelsIn(spec, region);
  const artifactUri = (key: string) => {
    const artifact = context.artifacts.get(`${key}/${region}`)!;
    return pulumi.interpolate`oss://${artifact.bucket}${artifact.prefix}/model.onnx`;
  };
  const served = new KubernetesApp(
    resourceName(name, region, "ack"),
    {
      spec: modelsSpec(spec, keys, region, { kubernetes: { labels: {} } }),
      artifactUris: Object.fromEntries(keys.map((key) => [key, artifactUri(key)])),
      ossAccess: { endpoint: `oss-${alicloudRegion}-internal.aliyuncs.com`, roleName: reader.role.roleName },
      modelJwt: { jwks: context.jwks, issuer: JWT_ISSUER, annotations: { [ACK_LOAD_BALANCER_ADDRESS_TYPE]: "intranet" } },
      gateway: false,
      tracing: args.tracing,
      externalGateways: demandGateways(context),
      metricsToken: stackTokenOf(args, "metricsToken"),
      acceleratorLabels: "ack",
      runtimeImage: args.runtimeImage!.replaceAll("{region}", alicloudRegion),
      namespace: spec.app,
    },
    { parent, provider: cluster.kubernetes, dependsOn: [...pools, ...cluster.ready] },
  );
  for (const key of keys) {
    const endpoint = served.endpoints.apply((endpoints) => endpoints.models[key][region] as Endpoint);
    context.models.set(`${key}/${region}`, endpoint);
    recordEndpoint(context.endpoints.models, key, region, endpoint);
  }
}
