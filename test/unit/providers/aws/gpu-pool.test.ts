import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/aws/provider";
import example from "../../../../examples/support-desk/app";
import { EksCluster } from "../../../../providers/aws/cluster";
import { EksGpuPool } from "../../../../providers/aws/gpu-pool";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { gpuCostGuard } from "../../../../policy/policies/gpu-cost-guard";
import { cloudloomLabels } from "../../../../policy/policies/labels";
import { leastPrivilege } from "../../../../policy/policies/least-privilege";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";

const ARTIFACT = "arn:aws:s3:::support-desk-models/intent/1/model.onnx";

describe("AWS GPU pool (EKS cluster and managed node group)", () => {
  // The example's pool is on-demand (its edge is a Wavelength Zone); this one asks for Spot centrally.
  const pool = { ...example.toSpec({ target: "aws" }).gpuPools["inference-t4"], capacity: "spot" as const };
  let resources: PlannedResource[];
  let result: Record<string, string>;

  before(async () => {
    ({ resources, result } = await planUnderMocks(() => {
      const provider = new Provider("eu-west-1", { region: "eu-west-1" });
      const cluster = new EksCluster(
        "support-desk-eu-west-1",
        { app: "support-desk", subnetIds: ["subnet-a", "subnet-b"] },
        { provider, region: "eu-west-1" },
      );
      const group = new EksGpuPool(
        "support-desk-t4-eu-west-1",
        {
          app: "support-desk",
          entry: "inference-t4",
          pool,
          clusterName: cluster.name,
          subnetIds: ["subnet-a", "subnet-b"],
          artifactArns: [ARTIFACT],
        },
        { provider },
      );
      return pulumi.all({ kubeconfig: cluster.kubeconfig, asg: group.autoscalingGroupName, securityGroup: cluster.securityGroupId });
    }));
  });

  it("runs the NVIDIA AL2023 AMI on the mapped instance type, sized by the pool, tainted, on spot", () => {
    const group = resources.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup" && r.name === "support-desk-t4-eu-west-1")!.inputs as any;
    assert.equal(group.amiType, "AL2023_x86_64_NVIDIA");
    assert.deepEqual(group.instanceTypes, ["g4dn.xlarge"]);
    assert.equal(group.capacityType, "SPOT");
    assert.deepEqual(group.scalingConfig, { minSize: 0, maxSize: 4, desiredSize: 0 });
    assert.deepEqual(group.taints, [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]);
    assert.equal(group.labels["k8s.amazonaws.com/accelerator"], "nvidia-tesla-t4");
    assert.deepEqual(group.subnetIds, ["subnet-a", "subnet-b"]);
    assert.equal(group.clusterName, "support-desk-eu-west-1");
  });

  it("gives the nodes read access to exactly the artifacts they serve", () => {
    const policy = resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.endsWith("-artifacts"))!;
    assert.deepEqual(JSON.parse((policy.inputs as any).policy).Statement, [
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: [ARTIFACT] },
    ]);
  });

  it("creates the cluster with AWS-managed policies only, and a kubeconfig for the Kubernetes module", () => {
    const attached = resources
      .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .map((r) => (r.inputs as any).policyArn);
    const nodePolicies = [
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ];
    // The control plane, the system nodes and the GPU nodes: AWS-managed policies only.
    assert.deepEqual(attached.sort(), ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", ...nodePolicies, ...nodePolicies].sort());
    const config = JSON.parse(result.kubeconfig);
    assert.deepEqual(config.users[0].user.exec.args, [
      "eks",
      "get-token",
      "--cluster-name",
      "support-desk-eu-west-1",
      "--region",
      "eu-west-1",
    ]);
    assert.equal(config.clusters[0].cluster.server, "https://support-desk-eu-west-1.eks.eu-west-1.amazonaws.com");
  });

  it("keeps the cluster's API endpoint private when no CIDRs are configured", () => {
    const cluster = resources.find((r) => r.type === "aws:eks/cluster:Cluster")!.inputs as any;
    assert.equal(cluster.vpcConfig.endpointPrivateAccess, true);
    assert.equal(cluster.vpcConfig.endpointPublicAccess, false);
    assert.equal(cluster.vpcConfig.publicAccessCidrs, undefined);
  });

  it("runs CoreDNS and the add-ons on a small untainted system node group", () => {
    const system = resources.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup" && r.name === "support-desk-eu-west-1-system")!
      .inputs as any;
    assert.equal(system.amiType, "AL2023_x86_64_STANDARD");
    assert.deepEqual(system.scalingConfig, { minSize: 1, maxSize: 3, desiredSize: 1 });
    assert.equal(system.taints, undefined);
  });

  it("exposes the node group's Auto Scaling group and the cluster's security group", () => {
    assert.equal(result.asg, "eks-support-desk-t4-eu-west-1-asg");
    assert.equal(result.securityGroup, "sg-support-desk-eu-west-1");
  });

  it("passes the cost guard, least-privilege and label policies", async () => {
    assert.deepEqual(await evaluatePolicies(toPolicyResources(resources), {}, [gpuCostGuard, leastPrivilege, cloudloomLabels]), []);
  });
});
