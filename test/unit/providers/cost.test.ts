import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../cli/plan";
import { floorCostLines } from "../../../cli/plan-format";
import { alicloudFloorCost, awsFloorCost, HOURS_PER_MONTH } from "../../../providers/cost";
import { ALICLOUD_PRICES, AWS_PRICES } from "../../../providers/prices";

describe("the monthly cost of each region's always-on floor", () => {
  let plan: Plan;

  before(async () => {
    plan = await planApp("examples/support-desk", "aws", stackConfig("aws"));
  });

  it("prices the example on aws as computed by hand from the planned resources and the price table", () => {
    const h = HOURS_PER_MONTH; // 730
    // central (eu-west-1): the GPU pool scales from 0, so only what always runs is priced.
    const central =
      1 * 0.5 * h * 3600 * 0.0000041667 + // classify: provisioned concurrency 1 × 512 MB = 5.475
      h * 0.1 + // EKS control plane = 73.00
      1 * h * 0.0912 + // system node group, 1 × t3.large = 66.576
      2 * 0.5 * h * 0.04048 + // gateway: 2 Fargate tasks × 0.5 vCPU = 29.5504
      2 * 1 * h * 0.004445 + // ... × 1 GB = 6.4897
      2 * h * 0.036; // Redis: 2 × cache.t4g.small = 52.56
    // edge-berlin (the Wavelength Zone, priced at eu-central-1's list prices): no Lambda, Fargate or Redis there.
    const edge =
      h * 0.1 + // EKS control plane = 73.00
      1 * h * 0.096 + // system node group in the parent region, 1 × t3.large = 70.08
      1 * h * 0.192 + // runtime nodes for classify and CPU work, min 1 × t3.xlarge = 140.16
      1 * h * 0.048; // the gateway's carrier-IP node, t3.medium = 35.04 (the T4 pool scales from 0)
    assert.equal(central.toFixed(2), "233.65");
    assert.equal(edge.toFixed(2), "318.28");
    const costs = awsFloorCost(plan.resources);
    assert.deepEqual(
      costs.map((c) => [c.region, c.totalUsd.toFixed(2), c.unpriced]),
      [
        ["central", central.toFixed(2), []],
        ["edge-berlin", edge.toFixed(2), []],
      ],
    );
  });

  it("prices what the stack creates: a larger floor in the resources is a larger estimate", () => {
    const raised = plan.resources.map((r) =>
      r.type === "aws:autoscaling/group:Group" && r.name === "support-desk-inference-t4-edge-berlin"
        ? { ...r, inputs: { ...r.inputs, minSize: 2 } }
        : r,
    );
    const edge = awsFloorCost(raised).find((c) => c.region === "edge-berlin")!;
    const line = edge.lines.find((l) => l.resource === "support-desk-inference-t4-edge-berlin")!;
    assert.equal(line.what, "2 × g4dn.2xlarge × 730 h");
    assert.equal(line.usd.toFixed(2), (2 * 730 * 0.94).toFixed(2));
    assert.match(
      line.source,
      /as transcribed, verify on the AWS pricing page; parent-region price, a Wavelength Zone charges more, as of 2026-12-01/,
    );
  });

  it("lists a resource without a price row as unpriced instead of guessing", () => {
    const unknown = plan.resources.map((r) =>
      r.type === "aws:ec2/launchTemplate:LaunchTemplate" && r.name === "support-desk-edge-berlin-runtime-nodes"
        ? { ...r, inputs: { ...r.inputs, instanceType: "r5.2xlarge" } }
        : r,
    );
    const edge = awsFloorCost(unknown).find((c) => c.region === "edge-berlin")!;
    assert.deepEqual(edge.unpriced, [
      "support-desk-edge-berlin-runtime-nodes (1 × r5.2xlarge × 730 h: no price for ec2:r5.2xlarge in eu-central-1)",
    ]);
  });

  it("keeps a date and a source on every price row, and never claims a figure was read from a page", () => {
    for (const [item, rows] of Object.entries(AWS_PRICES))
      for (const [region, row] of Object.entries(rows)) {
        assert.match(row.asOf, /^\d{4}-\d{2}-\d{2}$/, `${item} ${region}`);
        assert.match(row.source, /as transcribed, verify/, `${item} ${region}`);
        assert.ok(row.usd > 0);
      }
  });

  it("shows the estimate in the plan, per region", () => {
    const lines = floorCostLines(plan);
    assert.match(lines[0], /^Monthly cost of the always-on floor/);
    assert.ok(lines.includes("  central: $233.65/month"));
    assert.ok(lines.includes("  edge-berlin: $318.28/month"));
    assert.ok(lines.includes("    $140.16  support-desk-edge-berlin-runtime-nodes: 1 × t3.xlarge × 730 h"));
  });
});

describe("the monthly cost of each region's always-on floor on Alibaba Cloud", () => {
  let plan: Plan;

  before(async () => {
    plan = await planApp("examples/support-desk", "alicloud", stackConfig("alicloud"));
  });

  it("prices the example's FC provisioned instances as computed by hand, and lists what has no price", () => {
    const seconds = HOURS_PER_MONTH * 3600; // 2,628,000
    const cu = 0.00002; // USD per compute unit, tier 1
    // classify: 1 provisioned instance × (0.25 vCPU × 1 CU + 0.5 GB × 0.15 CU) per second = 17.082
    const classify = 1 * (0.25 * 1 + 0.5 * 0.15) * seconds * cu;
    // the central gateway: 1 × (1 vCPU + 2 GB × 0.15) = 68.328; intent scales to zero, so it has no floor
    const gateway = 1 * (1 * 1 + 2 * 0.15) * seconds * cu;
    assert.equal((classify + gateway).toFixed(2), "85.41");
    const costs = alicloudFloorCost(plan.resources);
    assert.deepEqual(
      costs.map((c) => [c.region, c.totalUsd.toFixed(2)]),
      [
        ["central", (classify + gateway).toFixed(2)],
        ["edge-berlin", classify.toFixed(2)],
      ],
    );
    assert.deepEqual(costs[0].unpriced, [
      "support-desk-gateway-central-redis (1 × redis.logic.sharding.1g.2db.0rodb.4proxy.default × 730 h: no price for kvstore:redis.logic.sharding.1g.2db.0rodb.4proxy.default in eu-central-1)",
    ]);
  });

  it("prices ENS instances by their node's area, and leaves a GPU type without a row unpriced", () => {
    const provider = plan.resources.find((r) => r.type === "pulumi:providers:alicloud" && r.name === "support-desk-edge-berlin")!;
    const ens = (name: string, instanceType: string, spotStrategy = "NoSpot") => ({
      type: "alicloud:ens/instance:Instance",
      name,
      provider: `urn::${provider.name}::${provider.name}-id`,
      inputs: { instanceType, ensRegionId: "cn-dalian-unicom", spotStrategy, amount: 1 },
    });
    const withEns = [
      ...plan.resources,
      ens("support-desk-edge-berlin-runtime", "ens.sn1.medium"),
      ens("support-desk-edge-berlin-inference-t4", "ens.gn6i.c8g1.2xlarge", "SpotAsPriceGo"),
    ] as typeof plan.resources;
    const edge = alicloudFloorCost(withEns).find((c) => c.region === "edge-berlin")!;
    const line = edge.lines.find((l) => l.resource === "support-desk-edge-berlin-runtime")!;
    assert.equal(line.what, "1 × ens.sn1.medium × 730 h");
    assert.equal(line.usd.toFixed(2), (730 * 0.264).toFixed(2)); // 192.72
    assert.match(line.source, /pay-as-you-go-instance.*read as per hour: list price as transcribed, verify/);
    assert.deepEqual(edge.unpriced, [
      "support-desk-edge-berlin-inference-t4 (1 × ens.gn6i.c8g1.2xlarge × 730 h (Pay-As-You-Go price: Spot varies): no price for ens:ens.gn6i.c8g1.2xlarge in cn-mainland)",
    ]);
  });

  it("keeps a date and a named page on every Alibaba price row", () => {
    for (const [item, rows] of Object.entries(ALICLOUD_PRICES))
      for (const [region, row] of Object.entries(rows)) {
        assert.match(row.asOf, /^\d{4}-\d{2}-\d{2}$/, `${item} ${region}`);
        assert.match(row.source, /alibabacloud\.com\/help\/en\//, `${item} ${region}`);
        assert.ok(row.usd > 0);
      }
  });
});
