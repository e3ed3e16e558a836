/**
 * How GPU models on EKS are reached from outside the cluster, with IAM auth:
 * an API Gateway HTTP API whose routes require SigV4 (`AWS_IAM`), a VPC link
 * into the region's VPC, and an internal Application Load Balancer whose
 * listeners forward to each model server's node port. (An ALB rather than an
 * NLB because ALBs run in Local Zones, where edge GPU nodes live.) Nothing is
 * reachable anonymously: the load balancer is internal, only the VPC link may
 * reach it, and only the load balancer may reach the node ports.
 */
import * as pulumi from "@pulumi/pulumi";
import { Api, Integration, Route, Stage, VpcLink } from "@pulumi/aws/apigatewayv2";
import { LogGroup } from "@pulumi/aws/cloudwatch";
import { Attachment } from "@pulumi/aws/autoscaling";
import { SecurityGroup } from "@pulumi/aws/ec2";
import { Listener, LoadBalancer, TargetGroup } from "@pulumi/aws/lb";
import { SecurityGroupEgressRule, SecurityGroupIngressRule } from "@pulumi/aws/vpc";
import { HEALTH_PATHS } from "../../runtime/contract";
import { entryLabels } from "../shared/labels";
import type { LoadBalancerLogs } from "./access-logs";
import type { CloudWatchSource } from "./alerts";

/** The port range Kubernetes allocates node ports from. */
export const NODE_PORT_RANGE = { from: 30000, to: 32767 };

/** First listener port; model i listens on LISTENER_BASE_PORT + i. */
export const LISTENER_BASE_PORT = 8000;

/** One model server on the cluster. */
export interface ClusterModel {
  /** `name@version`. */
  key: string;
  /** DNS-safe route segment, e.g. `intent-v1`. */
  route: string;
  /** The Service's node port. */
  nodePort: number;
  /** Auto Scaling groups of the node groups the model runs on. */
  autoscalingGroupNames: pulumi.Input<string>[];
  /** The path the model server answers predictions on. */
  predictPath: string;
}

/** One JSON line per request on the model API: who signed it, what it called, and how it went. */
export const STAGE_LOG_FORMAT = {
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  sourceIp: "$context.identity.sourceIp",
  caller: "$context.identity.caller",
  userArn: "$context.identity.userArn",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  integrationLatency: "$context.integrationLatency",
  integrationError: "$context.integrationErrorMessage",
} as const;

/** Inputs of a region's model API. */
export interface EksModelApiArgs {
  app: string;
  vpcId: pulumi.Input<string>;
  /** Subnets of the load balancer: the region's, plus a Local Zone's where the nodes run there. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Subnets of the VPC link (the region's Availability Zones). */
  linkSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The cluster's security group, which guards the nodes. */
  clusterSecurityGroupId: pulumi.Input<string>;
  models: ClusterModel[];
  /** Where the load balancer writes its access logs. */
  loadBalancerLogs: LoadBalancerLogs;
  /** Days of stage access logs to keep. @default 14 */
  logRetentionDays?: number;
}

/** What a model is reached at. */
export interface ModelRoute {
  url: pulumi.Output<string>;
  /** `execute-api:Invoke` resource of the route, for callers' least-privilege policies. */
  invokeArn: pulumi.Output<string>;
  /** Where CloudWatch keeps the route's metrics (the stage publishes them per route). */
  metrics: CloudWatchSource;
}

/** The API's one stage. */
const STAGE = "$default";

/**
 * The stage's throttling: HTTP APIs' own account-level defaults. Stating them
 * matters: a stage whose route settings leave them out gets 0, which refuses
 * every request with 429 (pulumi/pulumi-aws#2363).
 */
export const STAGE_THROTTLING = { throttlingRateLimit: 10_000, throttlingBurstLimit: 5_000 };

/** The SigV4-guarded API in front of a region's GPU models, typed `cloudloom:aws:ModelApi`. */
export class EksModelApi extends pulumi.ComponentResource {
  /** By model key. */
  readonly routes: Record<string, ModelRoute> = {};

  constructor(name: string, args: EksModelApiArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:ModelApi", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "app", args.app);
    const lastPort = LISTENER_BASE_PORT + args.models.length - 1;
    const linkGroup = new SecurityGroup(
      `${name}-link`,
      { vpcId: args.vpcId, description: "cloudloom VPC link to the model load balancer", tags },
      child,
    );
    const balancerGroup = new SecurityGroup(`${name}-lb`, { vpcId: args.vpcId, description: "cloudloom model load balancer", tags }, child);
    const rule = { ipProtocol: "tcp", tags };
    new SecurityGroupEgressRule(
      `${name}-link-to-lb`,
      {
        ...rule,
        securityGroupId: linkGroup.id,
        referencedSecurityGroupId: balancerGroup.id,
        fromPort: LISTENER_BASE_PORT,
        toPort: lastPort,
      },
      child,
    );
    new SecurityGroupIngressRule(
      `${name}-lb-from-link`,
      {
        ...rule,
        securityGroupId: balancerGroup.id,
        referencedSecurityGroupId: linkGroup.id,
        fromPort: LISTENER_BASE_PORT,
        toPort: lastPort,
      },
      child,
    );
    const nodePorts = { fromPort: NODE_PORT_RANGE.from, toPort: NODE_PORT_RANGE.to };
    new SecurityGroupEgressRule(
      `${name}-lb-to-nodes`,
      { ...rule, ...nodePorts, securityGroupId: balancerGroup.id, referencedSecurityGroupId: args.clusterSecurityGroupId },
      child,
    );
    new SecurityGroupIngressRule(
      `${name}-nodes-from-lb`,
      { ...rule, ...nodePorts, securityGroupId: args.clusterSecurityGroupId, referencedSecurityGroupId: balancerGroup.id },
      child,
    );
    const balancer = new LoadBalancer(
      name,
      {
        internal: true,
        loadBalancerType: "application",
        subnets: args.subnetIds,
        securityGroups: [balancerGroup.id],
        dropInvalidHeaderFields: true,
        accessLogs: args.loadBalancerLogs.accessLogs,
        tags,
      },
      { ...child, dependsOn: args.loadBalancerLogs.dependsOn },
    );
    const link = new VpcLink(name, { name, subnetIds: args.linkSubnetIds, securityGroupIds: [linkGroup.id], tags }, child);
    const api = new Api(name, { name, protocolType: "HTTP", tags }, child);
    const stageLogs = new LogGroup(
      `${name}-access-logs`,
      { name: `/aws/apigateway/${name}`, retentionInDays: args.logRetentionDays ?? 14, tags },
      child,
    );
    new Stage(
      name,
      {
        apiId: api.id,
        name: STAGE,
        autoDeploy: true,
        // Metrics per route, for the alarms of each model's objectives.
        defaultRouteSettings: { detailedMetricsEnabled: true, ...STAGE_THROTTLING },
        accessLogSettings: { destinationArn: stageLogs.arn, format: JSON.stringify(STAGE_LOG_FORMAT) },
        tags,
      },
      child,
    );
    args.models.forEach((model, index) => {
      const part = `${name}-${model.route}`;
      const group = new TargetGroup(
        part,
        {
          port: model.nodePort,
          protocol: "HTTP",
          targetType: "instance",
          vpcId: args.vpcId,
          healthCheck: { protocol: "HTTP", path: HEALTH_PATHS.ready, port: "traffic-port" },
          tags,
        },
        child,
      );
      model.autoscalingGroupNames.forEach(
        (asg, i) => new Attachment(`${part}-nodes-${i}`, { autoscalingGroupName: asg, lbTargetGroupArn: group.arn }, child),
      );
      const listener = new Listener(
        part,
        {
          loadBalancerArn: balancer.arn,
          port: LISTENER_BASE_PORT + index,
          protocol: "HTTP",
          defaultActions: [{ type: "forward", targetGroupArn: group.arn }],
          tags,
        },
        child,
      );
      const integration = new Integration(
        part,
        {
          apiId: api.id,
          integrationType: "HTTP_PROXY",
          integrationMethod: "POST",
          integrationUri: listener.arn,
          connectionType: "VPC_LINK",
          connectionId: link.id,
          payloadFormatVersion: "1.0",
          requestParameters: { "overwrite:path": model.predictPath },
        },
        child,
      );
      const routeKey = `POST /models/${model.route}`;
      new Route(
        part,
        {
          apiId: api.id,
          routeKey,
          target: pulumi.interpolate`integrations/${integration.id}`,
          authorizationType: "AWS_IAM",
        },
        child,
      );
      this.routes[model.key] = {
        url: pulumi.interpolate`${api.apiEndpoint}/models/${model.route}`,
        invokeArn: pulumi.interpolate`${api.executionArn}/*/POST/models/${model.route}`,
        metrics: { kind: "api", apiId: api.id, stage: STAGE, route: routeKey },
      };
    });
    this.registerOutputs({ endpoint: api.apiEndpoint });
  }
}
