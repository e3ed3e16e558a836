/**
 * Runs a Pulumi program under Pulumi's mock runtime and records every
 * resource it registers, with its inputs. No cloud, credentials or Pulumi CLI
 * is involved; provider-computed defaults are not applied. A provider
 * function call fails loudly, so a program cannot silently depend on one,
 * unless the plan knows it and answers with a placeholder (`KNOWN_CALLS`).
 */
import * as pulumi from "@pulumi/pulumi";
import { makePropertiesOnRead } from "./plan-properties";
import { keepPropertiesInProcess, type MockMonitor, type PlannedOutputs } from "./plan-registrations";

/** One resource the program would create. */
export interface PlannedResource {
  type: string;
  name: string;
  /** True for cloud resources, false for components. */
  custom: boolean;
  inputs: Record<string, unknown>;
  /** Reference (`urn::id`) of the explicit provider managing it, if any. */
  provider?: string;
}

/** Thrown when a program calls a provider function that the offline plan cannot answer. */
export class UnmockedCallError extends Error {
  constructor(token: string) {
    super(`the offline plan cannot answer provider call ${token}; pass its result in the program's arguments instead`);
    this.name = "UnmockedCallError";
  }
}

let planCount = 0;

/** Placeholder account of offline ARNs. */
const ACCOUNT = "123456789012";

/**
 * Outputs a cloud would compute (ARNs, versions, URLs, security groups),
 * filled with recognizable placeholders so programs that pass them on keep
 * working. `region` is the region of the resource's explicit provider.
 */
function computedState(type: string, name: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  if (type.startsWith("alicloud:")) return alicloudState(type, name, region);
  if (type === "kubernetes:core/v1:Service" && (inputs.spec as { type?: string } | undefined)?.type === "LoadBalancer")
    return { status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } } };
  if (!type.startsWith("aws:")) return {};
  const service = type.split(":")[1].split("/")[0];
  const state: Record<string, unknown> = { arn: `arn:aws:${service}:${region}:${ACCOUNT}:${name}` };
  switch (type) {
    case "aws:lambda/function:Function":
      state.version = "1";
      break;
    case "aws:s3/bucket:Bucket":
      state.bucket = inputs.bucket ?? `${String(inputs.bucketPrefix ?? "")}offline`;
      break;
    case "aws:lambda/functionUrl:FunctionUrl":
      state.functionUrl = `https://${name}.lambda-url.${region}.on.aws/`;
      break;
    case "aws:eks/cluster:Cluster":
      state.endpoint = `https://${name}.eks.${region}.amazonaws.com`;
      state.certificateAuthority = { data: "offline-ca" };
      state.vpcConfig = { ...(inputs.vpcConfig as object), clusterSecurityGroupId: `sg-${name}` };
      state.version = inputs.version ?? "1.33";
      state.kubernetesNetworkConfig = { serviceIpv4Cidr: "172.20.0.0/16" };
      break;
    case "aws:ec2/eip:Eip":
      state.carrierIp = inputs.networkBorderGroup ? "155.146.0.10" : undefined;
      state.publicIp = inputs.networkBorderGroup ? undefined : "198.51.100.10";
      break;
    case "aws:eks/nodeGroup:NodeGroup":
      state.resources = [{ autoscalingGroups: [{ name: `eks-${name}-asg` }] }];
      break;
    case "aws:lb/loadBalancer:LoadBalancer":
      state.dnsName = `${name}.${region}.elb.amazonaws.com`;
      state.zoneId = "Z0OFFLINEELB";
      break;
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      state.primaryEndpointAddress = `master.${name}.cache.${region}.amazonaws.com`;
      break;
    case "aws:apigatewayv2/api:Api":
      state.apiEndpoint = `https://${name}.execute-api.${region}.amazonaws.com`;
      state.executionArn = `arn:aws:execute-api:${region}:${ACCOUNT}:${name}`;
      break;
    case "aws:sqs/queue:Queue":
      state.url = `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${String(inputs.name ?? name)}`;
      break;
  }
  return state;
}

/** Alibaba Cloud outputs: FC versions and trigger URLs, OSS bucket names. */
function alicloudState(type: string, name: string, region: string): Record<string, unknown> {
  switch (type) {
    case "alicloud:fc/v3FunctionVersion:V3FunctionVersion":
      return { versionId: "1" };
    case "alicloud:fc/v3Trigger:V3Trigger":
      return {
        httpTrigger: { urlInternet: `https://${name}.${region}.fcapp.run`, urlIntranet: `https://${name}.${region}-vpc.fcapp.run` },
      };
    case "alicloud:fc/v3LayerVersion:V3LayerVersion":
      return { layerVersionArn: `acs:fc:${region}:123456789012:layers/${name}/versions/1` };
    case "alicloud:oss/bucket:Bucket":
      return { bucket: `${name}-offline` };
    case "alicloud:kvstore/instance:Instance":
      return { connectionDomain: `${name}.redis.rds.aliyuncs.com` };
    case "alicloud:ram/role:Role":
      return { arn: `acs:ram::123456789012:role/${name}` };
    default:
      return {};
  }
}

/** Pulumi's resource class, whose (private) `callsites` captures every resource's source position. */
const resourceClass = pulumi.Resource as unknown as { callsites: () => unknown[] };

/** Provider functions the offline plan answers with placeholders, by token. */
const KNOWN_CALLS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  // The account whose FC API endpoint (`<id>.<region>.fc.aliyuncs.com`) publishes model versions.
  "alicloud:index/getAccount:getAccount": () => ({ id: ACCOUNT }),
  // The credential an ACK cluster's Kubernetes provider is built from.
  "alicloud:cs/getClusterCredential:getClusterCredential": (inputs) => ({
    clusterId: inputs.clusterId,
    kubeConfig: `apiVersion: v1\nkind: Config\nclusters: [{ name: offline, cluster: { server: "https://${String(inputs.clusterId)}.offline" } }]\n`,
  }),
};

/** Pulumi's package exports, whose `mergeOptions` every resource class merges its default options with. */
const pulumiExports = require("@pulumi/pulumi") as { mergeOptions: typeof pulumi.mergeOptions };

/** Pulumi's promise wrapper, which records every internal promise for leak diagnostics. */
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise: <T>(promise: Promise<T>, label: string) => Promise<T>;
};

/** Resolves once `output` (and everything it depends on) has a value. */
export async function settle<T>(output: pulumi.Input<T>): Promise<T> {
  const value = await output;
  return new Promise((resolve) => pulumi.output(value).apply((settled) => resolve(settled as T)));
}

/**
 * Plans `program` and returns its result (settled) and every resource it
 * registered, in registration order.
 */
export async function planUnderMocks<T>(
  program: () => pulumi.Input<T>,
  options: { project?: string; stack?: string } = {},
): Promise<{ result: T; resources: PlannedResource[] }> {
  const resources: PlannedResource[] = [];
  const unanswered: string[] = [];
  const published = new Map<string, number>();
  const providerRegions = new Map<string, string>();
  /** Records a resource and answers with its ID and the outputs a cloud would compute. */
  const planned = (args: pulumi.runtime.MockResourceArgs): PlannedOutputs => {
    resources.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs, provider: args.provider });
    const id = `${args.name}-id`;
    if (args.type === "pulumi:providers:aws" || args.type === "pulumi:providers:alicloud")
      providerRegions.set(id, String(args.inputs.region));
    const providerId = args.provider?.slice(args.provider.lastIndexOf("::") + 2);
    const region = (providerId && providerRegions.get(providerId)) ?? "us-east-1";
    const computed = computedState(args.type, args.name, args.inputs, region);
    // A dynamic resource publishing FC versions: FC numbers each function's versions from 1.
    if (args.type === "pulumi-nodejs:dynamic:Resource" && typeof args.inputs.functionName === "string") {
      const next = (published.get(args.inputs.functionName) ?? 0) + 1;
      published.set(args.inputs.functionName, next);
      computed.versionId = String(next);
    }
    return { id, computed };
  };
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { id, computed } = planned(args);
        return { id, state: { ...args.inputs, ...computed } };
      },
      call(args) {
        const answer = KNOWN_CALLS[args.token];
        if (answer) return answer(args.inputs);
        unanswered.push(args.token);
        throw new UnmockedCallError(args.token);
      },
    },
    options.project ?? "cloudloom",
    options.stack ?? `plan-${++planCount}`,
    false,
  );
  // Pulumi captures a stack trace for every resource (its source position), and tags and
  // tracks every internal promise for leak diagnostics. An offline plan reports neither;
  // the captures were half of a large plan's time, and the tracking a third of the rest
  // (1,000 AWS functions: 15.8 -> 10.6 s, 1.7 -> 1.2 GB). Nor has it a stack's state for
  // aliases to match older resources in: the aliases resource classes add to their options
  // (a Kubernetes Deployment has three) were 40% of a Kubernetes plan's time, so its options
  // carry none. Its resources' properties cross to the mock monitor and back as values, not
  // protobuf (plan-registrations.ts), and each property's Output is made when the program
  // first reads it (plan-properties.ts). All stay off until the last resource is in.
  const stackTraceLimit = Error.stackTraceLimit;
  const callsites = resourceClass.callsites;
  const { debuggablePromise } = debuggable;
  const { mergeOptions } = pulumiExports;
  Error.stackTraceLimit = 0;
  resourceClass.callsites = () => [];
  debuggable.debuggablePromise = (promise) => promise;
  pulumiExports.mergeOptions = (first, second) => ({ ...mergeOptions(first, second), aliases: undefined });
  const encodeProperties = keepPropertiesInProcess(pulumi.runtime.getMonitor() as unknown as MockMonitor, planned);
  const makePropertiesAtOnce = makePropertiesOnRead();
  try {
    const result = await settle(program());
    await allRegistered(resources);
    return { result, resources };
  } catch (error) {
    // Pulumi wraps errors thrown by mocks and drops their message; name the call instead.
    if (unanswered.length > 0) throw new UnmockedCallError(unanswered[0]);
    throw error;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    resourceClass.callsites = callsites;
    debuggable.debuggablePromise = debuggablePromise;
    pulumiExports.mergeOptions = mergeOptions;
    encodeProperties();
    makePropertiesAtOnce();
  }
}

/** Pulumi's count of registrations in flight: `waitForRPCs` resolves once none is (a registration waits for its inputs first). */
const rpcs = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/**
 * Resolves once every registration begun has been answered and no new one
 * began for a few milliseconds: a resource whose inputs wait on slow work (a
 * bundle) is waited for however long that takes, and children made in an
 * `apply` of settled outputs get a turn to begin.
 */
async function allRegistered(resources: PlannedResource[]): Promise<void> {
  let seen = -1;
  while (seen !== resources.length) {
    await rpcs.waitForRPCs();
    seen = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
