import assert from "node:assert/strict";
import { toAwsCron } from "../../../../providers/aws/cron";
import { functionPolicy } from "../../../../providers/aws/iam";
import { gpuInstanceType } from "../../../../providers/aws/instance-types";
import type { GpuPoolSpec } from "../../../../sdk";

describe("AWS helpers", () => {
  it("converts five-field cron to AWS's cron(), with ? and weekdays counted from Sunday = 1", () => {
    assert.equal(toAwsCron("0 8 * * 1-5"), "cron(0 8 ? * 2-6 *)");
    assert.equal(toAwsCron("30 6 1 * *"), "cron(30 6 1 * ? *)");
    assert.equal(toAwsCron("0 0 * * 0,6"), "cron(0 0 ? * 1,7 *)");
    assert.equal(toAwsCron("0 0 * * 7"), "cron(0 0 ? * 1 *)");
    assert.equal(toAwsCron("*/15 9-17 * * 1-5/2"), "cron(*/15 9-17 ? * 2-6/2 *)");
    assert.throws(() => toAwsCron("0 0 1 * 1"), /AWS cannot combine/);
  });

  it("maps accelerators and GPU counts to instance types, naming the counts a family offers", () => {
    const pool = (accelerator: string, gpusPerInstance: number) => ({ accelerator, gpusPerInstance }) as GpuPoolSpec;
    assert.equal(gpuInstanceType(pool("nvidia-t4", 1)), "g4dn.xlarge");
    assert.equal(gpuInstanceType(pool("nvidia-a10", 4)), "g5.12xlarge");
    assert.equal(gpuInstanceType(pool("nvidia-l4", 8)), "g6.48xlarge");
    assert.throws(() => gpuInstanceType(pool("nvidia-t4", 2)), /g4dn has no instance with 2 GPUs; set gpusPerInstance to one of 1, 4, 8/);
    assert.throws(() => gpuInstanceType(pool("nvidia-l20", 1)), /not offered on AWS/);
  });

  it("writes function policies that name every action and resource", () => {
    const doc = JSON.parse(
      functionPolicy("arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f", {
        sagemakerEndpointArns: ["arn:aws:sagemaker:eu-west-1:1:endpoint/m"],
        executeApiArns: ["arn:aws:execute-api:eu-west-1:1:api1/*/POST/models/intent-v1"],
      }),
    );
    assert.equal(doc.Statement.length, 3);
    for (const statement of doc.Statement) {
      assert.ok(![statement.Action].flat().some((a: string) => a.includes("*")));
      assert.ok([statement.Resource].flat().every((r: string) => r !== "*"));
    }
    assert.deepEqual(doc.Statement[1], {
      Effect: "Allow",
      Action: ["sagemaker:InvokeEndpoint"],
      Resource: ["arn:aws:sagemaker:eu-west-1:1:endpoint/m"],
    });
    assert.deepEqual(doc.Statement[2].Action, ["execute-api:Invoke"]);
    const onlyLogs = JSON.parse(functionPolicy("arn:log", { sagemakerEndpointArns: [], executeApiArns: [] }));
    assert.equal(onlyLogs.Statement.length, 1, "no statement for model kinds the function does not call");
  });
});
