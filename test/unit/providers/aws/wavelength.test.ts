import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import { planLandings } from "../../../../cli/plan-format";

const ZONE = "eu-central-1-wl1-ber-wlz-1";
const only = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};
const decode = (userData: string) => Buffer.from(userData, "base64").toString("utf8");

describe("AWS Wavelength region (the example's Berlin edge under mocks)", () => {
  let plan: Plan;

  before(async () => {
    plan = await planApp("examples/support-desk", "aws", stackConfig("aws"));
  });

  it("extends the region's VPC into the zone: a subnet, a carrier gateway and a default route to it", () => {
    const subnet = only(plan, "aws:ec2/subnet:Subnet", "support-desk-edge-berlin-wavelength");
    assert.deepEqual([subnet.vpcId, subnet.cidrBlock, subnet.availabilityZone], ["vpc-0a1b2c3d4e5f60002", "10.2.64.0/24", ZONE]);
    const carrier = only(plan, "aws:ec2/carrierGateway:CarrierGateway", "support-desk-edge-berlin-wavelength");
    assert.equal(carrier.vpcId, "vpc-0a1b2c3d4e5f60002");
    const route = only(plan, "aws:ec2/route:Route", "support-desk-edge-berlin-wavelength-default");
    assert.deepEqual(
      [route.destinationCidrBlock, route.carrierGatewayId, route.routeTableId],
      ["0.0.0.0/0", "support-desk-edge-berlin-wavelength-id", "support-desk-edge-berlin-wavelength-id"],
    );
    const association = only(plan, "aws:ec2/routeTableAssociation:RouteTableAssociation", "support-desk-edge-berlin-wavelength");
    assert.deepEqual(
      [association.subnetId, association.routeTableId],
      ["support-desk-edge-berlin-wavelength-id", "support-desk-edge-berlin-wavelength-id"],
    );
  });

  it("runs self-managed nodes of only the zone's instance types, on carrier IPs, joined with nodeadm and an EC2_LINUX access entry", () => {
    const gpu = only(plan, "aws:ec2/launchTemplate:LaunchTemplate", "support-desk-inference-t4-edge-berlin");
    assert.equal(gpu.instanceType, "g4dn.2xlarge");
    assert.equal(gpu.imageId, "resolve:ssm:/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/nvidia/recommended/image_id");
    assert.deepEqual(gpu.networkInterfaces[0].associateCarrierIpAddress, "true");
    assert.deepEqual(gpu.networkInterfaces[0].securityGroups, ["sg-support-desk-edge-berlin", "support-desk-edge-berlin-carrier-id"]);
    assert.equal(gpu.metadataOptions.httpTokens, "required");
    const userData = decode(gpu.userData);
    assert.match(userData, /Content-Type: application\/node\.eks\.aws/);
    assert.match(userData, /kind: NodeConfig/);
    assert.match(userData, /name: support-desk-edge-berlin\n/);
    assert.match(userData, /apiServerEndpoint: https:\/\/support-desk-edge-berlin\.eks\.eu-central-1\.amazonaws\.com/);
    assert.match(userData, /cidr: 172\.20\.0\.0\/16/);
    assert.match(userData, /--register-with-taints=nvidia\.com\/gpu=present:NoSchedule/);
    assert.match(userData, new RegExp(`--node-labels=topology.kubernetes.io/zone=${ZONE},k8s.amazonaws.com/accelerator=nvidia-t4`));
    const runtime = only(plan, "aws:ec2/launchTemplate:LaunchTemplate", "support-desk-edge-berlin-runtime-nodes");
    assert.equal(runtime.instanceType, "t3.xlarge");
    assert.match(runtime.imageId, /\/standard\/recommended\/image_id$/);
    assert.doesNotMatch(decode(runtime.userData), /register-with-taints/);
    const offered = ["t3.medium", "t3.xlarge", "r5.2xlarge", "g4dn.2xlarge"];
    for (const template of plan.resources.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate"))
      assert.ok(offered.includes((template.inputs as any).instanceType), `${template.name}: ${(template.inputs as any).instanceType}`);
    const group = only(plan, "aws:autoscaling/group:Group", "support-desk-inference-t4-edge-berlin");
    assert.deepEqual(
      [group.minSize, group.maxSize, group.desiredCapacity, group.vpcZoneIdentifiers, group.launchTemplate],
      [0, 4, 0, ["support-desk-edge-berlin-wavelength-id"], { id: "support-desk-inference-t4-edge-berlin-id", version: "$Latest" }],
    );
    assert.ok(group.tags.some((t: any) => t.key === "kubernetes.io/cluster/support-desk-edge-berlin" && t.value === "owned"));
    const access = only(plan, "aws:eks/accessEntry:AccessEntry", "support-desk-inference-t4-edge-berlin");
    assert.deepEqual(
      [access.clusterName, access.type, access.principalArn],
      ["support-desk-edge-berlin", "EC2_LINUX", "arn:aws:iam:eu-central-1:123456789012:support-desk-inference-t4-edge-berlin-node-role"],
    );
    // No managed node groups, Lambda, SageMaker, Fargate or load balancers in the zone's region.
    const edgeTypes = plan.resources.filter((r) => r.name.includes("edge-berlin")).map((r) => r.type);
    for (const absent of ["aws:lambda/function:Function", "aws:ecs/service:Service", "aws:lb/loadBalancer:LoadBalancer"])
      assert.ok(!edgeTypes.includes(absent), absent);
    assert.deepEqual(
      plan.resources.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup" && r.name.includes("edge-berlin")).map((r) => r.name),
      ["support-desk-edge-berlin-system"],
      "only the system nodes, in the parent region's subnets",
    );
  });

  it("gives the edge gateway's node a carrier IP from the zone's border group, and opens only the gateway's node port", () => {
    const eip = only(plan, "aws:ec2/eip:Eip", "support-desk-edge-berlin-carrier-ip");
    assert.deepEqual([eip.domain, eip.networkBorderGroup], ["vpc", ZONE]);
    const node = only(plan, "aws:ec2/instance:Instance", "support-desk-edge-berlin-gateway-node");
    assert.equal(node.subnetId, "support-desk-edge-berlin-wavelength-id");
    const template = only(plan, "aws:ec2/launchTemplate:LaunchTemplate", "support-desk-edge-berlin-gateway-node");
    assert.equal(template.instanceType, "t3.medium");
    assert.equal(template.networkInterfaces[0].associateCarrierIpAddress, undefined, "the Elastic IP is its carrier IP");
    const association = only(plan, "aws:ec2/eipAssociation:EipAssociation", "support-desk-edge-berlin-carrier-ip");
    assert.deepEqual([association.instanceId, association.allocationId], ["support-desk-edge-berlin-gateway-node-id", undefined]);
    const port = only(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "support-desk-edge-berlin-carrier-gateway-port");
    assert.deepEqual([port.fromPort, port.toPort, port.ipProtocol], [31080, 31080, "tcp"]);
  });

  it("runs classify and intent as runtime containers on the zone's nodes, behind the region's own gateway preferring the carrier's clients", () => {
    const classify = only(plan, "kubernetes:apps/v1:Deployment", "support-desk-edge-berlin-fn-classify-edge-berlin").spec.template.spec;
    assert.deepEqual(classify.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions, [
      { key: "topology.kubernetes.io/zone", operator: "In", values: [ZONE] },
    ]);
    assert.ok(classify.containers[0].args.includes("function:classify"));
    const service = only(plan, "kubernetes:core/v1:Service", "support-desk-edge-berlin-gateway");
    assert.deepEqual([service.spec.type, service.spec.ports[0].nodePort], ["NodePort", 31080]);
    const settings = JSON.parse(only(plan, "kubernetes:core/v1:ConfigMap", "support-desk-edge-berlin-gateway").data["settings.json"]);
    assert.deepEqual(settings.locality, { home: "edge-berlin", cidrs: [{ cidr: "198.51.100.0/24", locality: "de" }] });
  });

  it("says in the plan where each edge entry lands and why", () => {
    const edge = planLandings(plan).filter((l) => l.region === "edge-berlin");
    assert.deepEqual(
      edge.map((l) => [l.entry, l.why]),
      [
        ["function classify", "Wavelength has no Lambda"],
        ["model intent@1", "Wavelength takes self-managed nodes, On-Demand only"],
        ["gateway", "Wavelength has no Fargate or load balancers"],
      ],
    );
    assert.match(edge[0].where, new RegExp(`runtime container on EKS self-managed nodes in ${ZONE} \\(t3\\.xlarge\\)`));
  });
});
