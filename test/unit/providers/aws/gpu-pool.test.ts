import assert from "node:assert/strict";
import { Provider } from "@pulumi/aws/provider";
import example from "../../../../examples/support-desk/app";
import { EksGpuPool } from "../../../../providers/aws/gpu-pool";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { gpuCostGuard } from "../../../../policy/policies/gpu-cost-guard";
import { cloudloomLabels } from "../../../../policy/policies/labels";
import { leastPrivilege } from "../../../../policy/policies/least-privilege";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";

describe("AWS GPU pool (EKS managed node group)", () => {
  const pool = example.toSpec({ target: "aws" }).gpuPools["inference-t4"];
  let resources: PlannedResource[];
  let kubeconfig: string;

  before(async () => {
    ({ resources, result: kubeconfig } = await planUnderMocks(() => {
      const provider = new Provider("eu-west-1", { region: "eu-west-1" });
      const created = new EksGpuPool(
        "support-desk-t4-eu-west-1",
        { app: "support-desk", entry: "inference-t4", pool, subnetIds: ["subnet-a", "subnet-b"] },
        { provider, region: "eu-west-1" },
      );
      return created.kubeconfig!;
    }));
  });

  it("runs the NVIDIA AL2023 AMI on the mapped instance type, sized by the pool, tainted, on spot", () => {
    const group = resources.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup")!.inputs as any;
    assert.equal(group.amiType, "AL2023_x86_64_NVIDIA");
    assert.deepEqual(group.instanceTypes, ["g4dn.xlarge"]);
    assert.equal(group.capacityType, "SPOT");
    assert.deepEqual(group.scalingConfig, { minSize: 0, maxSize: 4, desiredSize: 0 });
    assert.deepEqual(group.taints, [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]);
    assert.equal(group.labels["k8s.amazonaws.com/accelerator"], "nvidia-tesla-t4");
    assert.deepEqual(group.subnetIds, ["subnet-a", "subnet-b"]);
  });

  it("creates the cluster with AWS-managed policies only, and a kubeconfig for the Kubernetes module", () => {
    const attached = resources
      .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .map((r) => (r.inputs as any).policyArn)
      .sort();
    assert.deepEqual(attached, [
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
      "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ]);
    const config = JSON.parse(kubeconfig);
    assert.deepEqual(config.users[0].user.exec.args, [
      "eks",
      "get-token",
      "--cluster-name",
      "support-desk-t4-eu-west-1-cluster",
      "--region",
      "eu-west-1",
    ]);
  });

  it("passes the cost guard, least-privilege and label policies", async () => {
    assert.deepEqual(await evaluatePolicies(toPolicyResources(resources), {}, [gpuCostGuard, leastPrivilege, cloudloomLabels]), []);
  });

  it("adds only a node group to a cluster it is given", async () => {
    const { resources: reused } = await planUnderMocks(() => {
      const provider = new Provider("eu-west-1", { region: "eu-west-1" });
      return new EksGpuPool(
        "p",
        { app: "a", entry: "p", pool, subnetIds: ["subnet-a"], clusterName: "shared" },
        { provider, region: "eu-west-1" },
      ).clusterName;
    });
    assert.ok(!reused.some((r) => r.type === "aws:eks/cluster:Cluster"));
    assert.equal((reused.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup")!.inputs as any).clusterName, "shared");
  });
});
