/**
 * A region in a Wavelength Zone. Wavelength sells EC2 and EBS, not Lambda,
 * SageMaker, Fargate or load balancers, and EKS takes only self-managed
 * nodes there; so the whole region runs on its own EKS cluster (control plane
 * in the parent region) with nodes in the zone:
 * - the zone's subnet, carrier gateway and default route (wavelength.ts);
 * - an Auto Scaling group of runtime nodes on the zone's general-purpose type
 *   for the region's functions and CPU models, and one per GPU pool on the
 *   zone's GPU type (On-Demand: the zone sells no Spot);
 * - the region's functions and models as cloudloom runtime containers through
 *   the Kubernetes module, with its gateway, whose locality home is this region
 *   and whose client prefixes are the carrier's;
 * - the gateway's edge node: one instance holding a carrier Elastic IP, on
 *   which, as on every node, the gateway's node port answers. Clients of the
 *   carrier reach `http://<carrier IP>:<node port>`.
 */
import * as pulumi from "@pulumi/pulumi";
import { Eip, EipAssociation, SecurityGroup } from "@pulumi/aws/ec2";
import { SecurityGroupIngressRule } from "@pulumi/aws/vpc";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { edgeCpuInstanceType, edgeGpuInstanceType, resolveEdgeSite } from "../../sdk/spec";
import { KubernetesApp } from "../kubernetes/app";
import { GATEWAY_NODE_PORT } from "../kubernetes/gateway";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { regionSpec } from "../shared/sub-spec";
import { EksCluster } from "./cluster";
import { EksClusterAddons } from "./cluster-addons";
import type { AwsContext } from "./context";
import { DEFAULT_RUNTIME_IMAGE } from "./gateway";
import { metricsToken } from "./metrics-token";
import { wavelengthRegions } from "./networks";
import { EksSelfManagedNodes } from "./self-managed-nodes";
import { WavelengthNetwork } from "./wavelength";

/** The edge gateway's node: small, it only proxies. */
const GATEWAY_NODE_TYPE = "t3.medium";

/** Places every Wavelength region of the app. */
export function placeWavelengthRegions(context: AwsContext): void {
  for (const region of wavelengthRegions(context.spec)) placeWavelengthRegion(context, region);
}

/** One Wavelength region: network, cluster, nodes, the region's workloads and its carrier-facing gateway. */
function placeWavelengthRegion(context: AwsContext, region: string): void {
  const { spec, args, name, parent } = context;
  const { provider, awsRegion } = context.regions.get(region)!;
  const site = resolveEdgeSite(spec.regions[region].placement, "aws")!;
  const network = args.networks[region];
  const wavelength = network.wavelength!;
  const options = { parent, provider };
  const zone = new WavelengthNetwork(
    resourceName(name, region, "wavelength"),
    { app: spec.app, region, vpcId: network.vpcId, zone: site.id, cidrBlock: wavelength.cidrBlock },
    options,
  );
  const cluster = new EksCluster(
    resourceName(name, region),
    { app: spec.app, subnetIds: network.subnetIds, publicAccessCidrs: args.clusterApiCidrs ?? args.gateway?.clusterApiCidrs },
    { ...options, region: awsRegion },
  );
  const sub = regionSpec(spec, region, { kubernetes: { labels: { "topology.kubernetes.io/zone": site.id } } });
  const artifactArns = Object.keys(sub.models).map((key) => context.artifacts.get(`${key}/${region}`)!.arn);
  const zoneLabels = { "topology.kubernetes.io/zone": site.id };
  // The carrier network reaches the gateway's node port on the zone's nodes.
  const carrierFacing = new SecurityGroup(
    resourceName(name, region, "carrier"),
    {
      vpcId: network.vpcId,
      description: "cloudloom gateway node port from the carrier network",
      tags: entryLabels(spec.app, "gateway", region),
    },
    options,
  );
  new SecurityGroupIngressRule(
    resourceName(name, region, "carrier-gateway-port"),
    {
      securityGroupId: carrierFacing.id,
      ipProtocol: "tcp",
      fromPort: GATEWAY_NODE_PORT,
      toPort: GATEWAY_NODE_PORT,
      cidrIpv4: "0.0.0.0/0",
      tags: entryLabels(spec.app, "gateway", region),
    },
    options,
  );
  const common = { app: spec.app, cluster: cluster.join, subnetId: zone.subnetId, carrierIp: true, securityGroupIds: [carrierFacing.id] };
  const runtimeNodes = new EksSelfManagedNodes(
    resourceName(name, region, "runtime-nodes"),
    {
      ...common,
      kind: "region",
      entry: region,
      instanceType: edgeCpuInstanceType(site.offers, "aws"),
      gpu: false,
      minSize: 1,
      maxSize: 4,
      labels: { ...zoneLabels, "cloudloom.dev/nodes": "runtime" },
      artifactArns,
    },
    options,
  );
  const nodes: pulumi.Resource[] = [runtimeNodes];
  for (const [poolName, pool] of Object.entries(sub.gpuPools))
    nodes.push(
      new EksSelfManagedNodes(
        resourceName(name, poolName, region),
        {
          ...common,
          kind: "gpu-pool",
          entry: poolName,
          instanceType: edgeGpuInstanceType(pool, site.offers, "aws"),
          gpu: true,
          minSize: pool.minSize,
          maxSize: pool.maxSize,
          labels: { ...zoneLabels, "k8s.amazonaws.com/accelerator": pool.accelerator, ...entryLabels(spec.app, "gpu-pool", poolName) },
          artifactArns,
        },
        options,
      ),
    );
  const gatewayNode = new EksSelfManagedNodes(
    resourceName(name, region, "gateway-node"),
    {
      ...common,
      kind: "region",
      entry: region,
      instanceType: GATEWAY_NODE_TYPE,
      gpu: false,
      minSize: 1,
      maxSize: 1,
      labels: { ...zoneLabels, "cloudloom.dev/nodes": "edge-gateway" },
      single: true,
    },
    options,
  );
  // A carrier IP is an Elastic IP from the zone's network border group.
  const carrierIp = new Eip(
    resourceName(name, region, "carrier-ip"),
    { domain: "vpc", networkBorderGroup: site.id, tags: entryLabels(spec.app, "gateway", region) },
    options,
  );
  new EipAssociation(
    resourceName(name, region, "carrier-ip"),
    { allocationId: carrierIp.allocationId, instanceId: gatewayNode.instanceId! },
    options,
  );
  const kubernetes = new KubernetesProvider(resourceName(name, region, "eks"), { kubeconfig: cluster.kubeconfig }, { parent });
  const addons = new EksClusterAddons(
    resourceName(name, region, "addons"),
    { app: spec.app, clusterName: cluster.name, region: awsRegion, kubernetes },
    options,
  );
  const image = args.runtimeImage ?? DEFAULT_RUNTIME_IMAGE;
  new KubernetesApp(
    resourceName(name, region),
    {
      spec: sub,
      artifactUris: Object.fromEntries(Object.keys(sub.models).map((key) => [key, context.artifacts.get(`${key}/${region}`)!.uri])),
      acceleratorLabels: "eks",
      runtimeImage: image,
      functionImage: args.functionImage ?? image,
      namespace: spec.app,
      secrets: args.secrets,
      tracing: args.tracing,
      apiKeys:
        args.gateway?.apiKeys === undefined
          ? undefined
          : pulumi.output(args.gateway.apiKeys).apply((keys) => keys.split(",").filter(Boolean)),
      gatewayExposure: "nodePort",
      metricsToken: metricsToken(context),
      // The zone's cluster runs Prometheus for KEDA but not the Prometheus Operator: no PrometheusRule there, and plan
      // lists the zone's objectives as ones CloudWatch cannot see.
      monitoring: false,
      // The carrier's clients are this region's first locality: the gateway serves them here first.
      gatewayLocality: {
        home: region,
        cidrs: wavelength.carrierCidrs.map((cidr) => ({ cidr, locality: spec.regions[region].localities[0] ?? region })),
      },
    },
    { parent, provider: kubernetes, dependsOn: [...nodes, gatewayNode, ...addons.ready] },
  );
  context.edgeGateways.set(region, pulumi.interpolate`http://${carrierIp.carrierIp}:${GATEWAY_NODE_PORT}`);
}
