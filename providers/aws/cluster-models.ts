/** Models of GPU pools: placed on the region's EKS cluster through the Kubernetes module, behind the model API. */
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { modelPredictPath } from "../../runtime/contract";
import { KubernetesApp } from "../kubernetes/app";
import { recordEndpoint } from "../shared/endpoints";
import { modelPart, resourceName } from "../shared/naming";
import { modelsSpec } from "../shared/sub-spec";
import { EksClusterAddons } from "./cluster-addons";
import { demandGateways } from "./gateway";
import { accessLogsIn, modelsIn, signed, type AwsContext } from "./context";
import { metricsToken } from "./metrics-token";
import { EksModelApi } from "./model-api";

/** First node port of a region's model servers; model i of the region gets FIRST_NODE_PORT + i. */
const FIRST_NODE_PORT = 30080;

/** GPU model servers of one region: the Kubernetes module on the region's cluster, behind the model API. */
export function placeClusterModels(context: AwsContext, region: string): void {
  const { spec, args, name } = context;
  const { cluster, pools } = context.clusters.get(region)!;
  const { provider, awsRegion } = context.regions.get(region)!;
  const network = args.networks[region];
  const keys = modelsIn(spec, region, true);
  const nodePorts = Object.fromEntries(keys.map((key, i) => [key, FIRST_NODE_PORT + i]));
  const zone = spec.regions[region].placement.aws?.zone;
  const kubernetes = new KubernetesProvider(
    resourceName(name, region, "eks"),
    { kubeconfig: cluster.kubeconfig },
    { parent: context.parent },
  );
  const addons = new EksClusterAddons(
    resourceName(name, region, "addons"),
    { app: spec.app, clusterName: cluster.name, region: awsRegion, kubernetes },
    { parent: context.parent, provider },
  );
  new KubernetesApp(
    resourceName(name, region),
    {
      spec: modelsSpec(spec, keys, region, { kubernetes: { labels: zone ? { "topology.kubernetes.io/zone": zone } : {} } }),
      artifactUris: Object.fromEntries(keys.map((key) => [key, context.artifacts.get(`${key}/${region}`)!.uri])),
      modelNodePorts: { frontedBy: "aws-apigateway-iam", ports: nodePorts },
      gateway: false,
      tracing: args.tracing,
      externalGateways: demandGateways(context),
      metricsToken: metricsToken(context),
      acceleratorLabels: "eks",
      runtimeImage: args.runtimeImage,
      namespace: spec.app,
    },
    { parent: context.parent, provider: kubernetes, dependsOn: [...pools.values(), ...addons.ready] },
  );
  const api = new EksModelApi(
    resourceName(name, region, "models"),
    {
      app: spec.app,
      vpcId: network.vpcId,
      subnetIds: [...network.subnetIds, ...(network.zoneSubnetIds ?? [])],
      linkSubnetIds: network.subnetIds,
      clusterSecurityGroupId: cluster.securityGroupId,
      models: keys.map((key) => ({
        key,
        route: modelPart(spec.models[key].name, spec.models[key].version),
        nodePort: nodePorts[key],
        autoscalingGroupNames: [pools.get(spec.models[key].pool!)!.autoscalingGroupName],
        predictPath: modelPredictPath(key),
      })),
      loadBalancerLogs: accessLogsIn(context, region).forLoadBalancer(resourceName(name, region, "models")),
      logRetentionDays: context.args.logRetentionDays,
    },
    { parent: context.parent, provider },
  );
  for (const key of keys) {
    const route = api.routes[key];
    const endpoint = signed(route.url, "execute-api", awsRegion);
    context.models.set(`${key}/${region}`, { endpoint, access: { kind: "execute-api", arn: route.invokeArn } });
    context.monitored.set(`${key}/${region}`, route.metrics);
    recordEndpoint(context.endpoints.models, key, region, endpoint);
  }
}
