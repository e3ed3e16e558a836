/**
 * Publishing several versions of one FC function in one deployment. A
 * function version snapshots the function's configuration, and FC publishes
 * only after a change, so each version needs "update the function, then
 * publish" in order, which no declarative resource does. `FcVersionPublish`
 * is a Pulumi dynamic resource that does it through FC's API (the official
 * SDK, `@alicloud/fc20230330`, credentials from the usual Alibaba Cloud
 * environment or profile): it sets the function's environment and
 * description, publishes, and returns the version id; deleting it deletes the
 * version. Chained with `dependsOn`, one publish per model version.
 */
import * as pulumi from "@pulumi/pulumi";

/** What one publish sets on the function before publishing. */
export interface FcVersionPublishInputs {
  /** FC's API endpoint: `<account id>.<region>.fc.aliyuncs.com`. */
  endpoint: string;
  /** `https`, or `http` for a local stand-in. @default "https" */
  protocol?: string;
  functionName: string;
  /** The function's whole environment for this version (FC replaces the map). */
  environment: Record<string, string>;
  /** The version's description. */
  description: string;
}

/** The FC API calls a publish makes, with the SDK's request types. */
function fcClient(inputs: FcVersionPublishInputs) {
  // Loaded here, not at the top: Pulumi serializes this provider with its code, and a
  // package required inside the function is captured as a require, not by value.
  const fc = require("@alicloud/fc20230330") as typeof import("@alicloud/fc20230330");
  const { $OpenApiUtil } = require("@alicloud/openapi-core") as typeof import("@alicloud/openapi-core");
  const env = process.env;
  const client = new fc.default(
    new $OpenApiUtil.Config({
      endpoint: inputs.endpoint,
      protocol: inputs.protocol ?? "https",
      accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? env.ALICLOUD_ACCESS_KEY,
      accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? env.ALICLOUD_SECRET_KEY,
      securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN ?? env.ALICLOUD_SECURITY_TOKEN,
    }),
  );
  return {
    async publish(): Promise<string> {
      await client.updateFunction(
        inputs.functionName,
        new fc.UpdateFunctionRequest({
          body: new fc.UpdateFunctionInput({ environmentVariables: inputs.environment, description: inputs.description }),
        }),
      );
      const published = await client.publishFunctionVersion(
        inputs.functionName,
        new fc.PublishFunctionVersionRequest({ body: new fc.PublishVersionInput({ description: inputs.description }) }),
      );
      const versionId = published.body?.versionId;
      if (!versionId) throw new Error(`FC published no version of ${inputs.functionName}`);
      return versionId;
    },
    async remove(versionId: string): Promise<void> {
      await client.deleteFunctionVersion(inputs.functionName, versionId);
    },
  };
}

/** The dynamic provider: create publishes, delete removes, any change publishes anew. */
export const fcVersionPublisher: pulumi.dynamic.ResourceProvider = {
  async create(inputs: FcVersionPublishInputs) {
    const versionId = await fcClient(inputs).publish();
    return { id: `${inputs.functionName}/${versionId}`, outs: { ...inputs, versionId } };
  },
  async diff(_id, olds: FcVersionPublishInputs, news: FcVersionPublishInputs) {
    const keys = ["endpoint", "functionName", "environment", "description"] as const;
    const replaces = keys.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async delete(_id, props: FcVersionPublishInputs & { versionId: string }) {
    await fcClient(props).remove(props.versionId);
  },
};

/** One published version of an FC function, typed `pulumi-nodejs:dynamic:Resource`. */
export class FcVersionPublish extends pulumi.dynamic.Resource {
  /** The version FC assigned. */
  declare readonly versionId: pulumi.Output<string>;

  constructor(
    name: string,
    args: { [K in keyof FcVersionPublishInputs]: pulumi.Input<FcVersionPublishInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(fcVersionPublisher, name, { ...args, versionId: undefined }, opts);
  }
}
