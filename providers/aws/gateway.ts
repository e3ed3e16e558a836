/**
 * The gateway on AWS, in every region with backends: `cloudloom serve` from
 * the runtime image on ECS Fargate (two tasks at least) behind a public
 * Application Load Balancer, with ElastiCache for Redis (TLS, encrypted at
 * rest, an AUTH token kept in Secrets Manager) for shared rate limits and the
 * L2 cache; its metrics take the stack's metrics token. Its task role may sign calls to exactly the app's Function URLs
 * and model APIs. With a Route 53 zone, one latency record per region sends
 * each client to its nearest gateway.
 *
 * Security groups: the load balancer takes 80/443 from the internet and
 * reaches only the tasks; the tasks take traffic only from the load balancer
 * and reach only Redis and HTTPS (and, with tracing on another port, the
 * collector's port, at its CIDRs when `cloudloom:tracing.collector` names
 * them); Redis takes traffic only from the tasks. With tracing, the export
 * headers reach the container from Secrets Manager, as the API keys do.
 */
import { createHash, randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { Target as ScalableTarget } from "@pulumi/aws/appautoscaling";
import { LogGroup } from "@pulumi/aws/cloudwatch";
import { SecurityGroup } from "@pulumi/aws/ec2";
import { Cluster, Service, TaskDefinition } from "@pulumi/aws/ecs";
import { ReplicationGroup, SubnetGroup } from "@pulumi/aws/elasticache";
import { Role, RolePolicy } from "@pulumi/aws/iam";
import { Listener, LoadBalancer, TargetGroup } from "@pulumi/aws/lb";
import { Record as DnsRecord } from "@pulumi/aws/route53";
import type { Secret } from "@pulumi/aws/secretsmanager";
import { SecurityGroupEgressRule, SecurityGroupIngressRule } from "@pulumi/aws/vpc";
import { toCanonicalJson, type EndpointsMap } from "../../sdk/spec";
import { CONTAINER_PORT, HEALTH_PATHS, RUNTIME_ENV } from "../../runtime/contract";
import { GATEWAY_ENV, gatewayContainerCommand } from "../shared/gateway-container";
import { collectorPort, tracingEnvironment, TRACING_HEADERS_ENV, type TracingSettings } from "../shared/tracing";
import { entryLabels } from "../shared/labels";
import { LaterUrls } from "../shared/later-urls";
import { dnsSafe, resourceName } from "../shared/naming";
import { trackTarget } from "./autoscaling";
import type { LoadBalancerLogs } from "./access-logs";
import { accessLogsIn, type AwsContext } from "./context";
import { gatewayDemandToken } from "./demand-token";
import { certificateFor } from "./gateway-settings";
import { assumeRolePolicy, gatewayExecutionPolicy, gatewayTaskPolicy, type GatewayAccess } from "./iam";
import { keptSecret } from "./kept-secret";
import { metricsToken } from "./metrics-token";
import { gatewayRegions, type AwsNetwork } from "./networks";

/** The runtime image when `cloudloom:runtimeImage` is not set. */
export const DEFAULT_RUNTIME_IMAGE = "ghcr.io/cloudloom/runtime:0.1.0";

/** Sizes of the gateway service. */
export const GATEWAY_SERVICE = { minTasks: 2, maxTasks: 10, cpu: "512", memory: "1024", targetCpuPercent: 60 } as const;

/** Sizes of the gateway's Redis: a primary and a replica in another Availability Zone. */
export const GATEWAY_REDIS = { engine: "redis", engineVersion: "7.1", nodeType: "cache.t4g.small", nodes: 2, port: 6379 } as const;

/** TLS policy of the HTTPS listener (TLS 1.3 and 1.2). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** The container's name in the task definition. */
const CONTAINER = "gateway";

/** `name` cut to `max` characters with a short hash of the whole (ElastiCache ids are at most 40). */
function shortName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
  return `${name.slice(0, max - 7).replace(/-+$/, "")}-${hash}`;
}

/**
 * The tasks' egress peers to the collector: none when it listens on 443 (the
 * tasks reach HTTPS already), else its CIDRs, or, when none are named, any
 * address on that one port.
 */
export function collectorEgress(tracing: TracingSettings): Array<{ cidrIpv4: string } | { cidrIpv6: string }> {
  if (collectorPort(tracing) === 443) return [];
  const cidrs = tracing.collector?.cidrs ?? ["0.0.0.0/0"];
  return cidrs.map((cidr) => (cidr.includes(":") ? { cidrIpv6: cidr } : { cidrIpv4: cidr }));
}

/** Inputs of one region's gateway. */
export interface AwsGatewayArgs {
  app: string;
  /** The spec region it serves from. */
  region: string;
  /** The AWS region it runs in (a Local Zone region's parent). */
  awsRegion: string;
  network: AwsNetwork & { publicSubnetIds: string[]; cidrBlock: string };
  /** The runtime image (`cloudloom serve`). */
  image: string;
  /** Canonical Spec v1 JSON. */
  spec: string;
  /** The stack's endpoints map. */
  endpoints: pulumi.Input<EndpointsMap>;
  /** Exactly the backends its task role may call. */
  access: GatewayAccess<pulumi.Input<string>>;
  /** ACM certificate: with it, HTTPS on 443 (80 redirects); without it, HTTP on 80. */
  certificateArn?: string;
  /** The Redis AUTH token; generated once when absent. */
  redisAuthToken?: pulumi.Input<string>;
  /** API keys the gateway accepts, comma-separated. */
  apiKeys?: pulumi.Input<string>;
  /** The token its `/metrics` and `/metrics/demand` require (metrics-token.ts), copied into a secret of its region. */
  metricsToken: pulumi.Input<string>;
  /** Days of logs to keep. @default 14 */
  logRetentionDays?: number;
  /** Where the load balancer writes its access logs. */
  loadBalancerLogs?: LoadBalancerLogs;
  /** Where the gateway exports its spans. */
  tracing?: TracingSettings;
  /** The secret of the token functions' demand reports carry (demand-token.ts), when some function reports. */
  demandToken?: Secret;
}

/** One region's gateway, typed `cloudloom:aws:Gateway`. */
export class AwsGateway extends pulumi.ComponentResource {
  /** `http(s)://<load balancer DNS name>`. */
  readonly url: pulumi.Output<string>;
  /** The load balancer's DNS name and hosted zone, for alias records. */
  readonly dnsName: pulumi.Output<string>;
  readonly zoneId: pulumi.Output<string>;

  constructor(name: string, args: AwsGatewayArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:Gateway", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "gateway", args.region);
    const { vpcId } = args.network;

    // Security groups: internet → load balancer → tasks → Redis and HTTPS.
    const group = (part: string, description: string) =>
      new SecurityGroup(`${name}-${part}`, { vpcId, description: `cloudloom gateway ${description}`, tags }, child);
    const lbGroup = group("lb", "load balancer");
    const taskGroup = group("tasks", "tasks");
    const redisGroup = group("redis", "Redis");
    const rule = (kind: "ingress" | "egress", part: string, groupId: pulumi.Input<string>, port: number, peer: object) => {
      const ruleArgs = { securityGroupId: groupId, ipProtocol: "tcp", fromPort: port, toPort: port, tags, ...peer };
      return kind === "ingress"
        ? new SecurityGroupIngressRule(`${name}-${part}`, ruleArgs, child)
        : new SecurityGroupEgressRule(`${name}-${part}`, ruleArgs, child);
    };
    const publicPorts = args.certificateArn ? [80, 443] : [80];
    for (const port of publicPorts) rule("ingress", `lb-from-internet-${port}`, lbGroup.id, port, { cidrIpv4: "0.0.0.0/0" });
    rule("egress", "lb-to-tasks", lbGroup.id, CONTAINER_PORT, { referencedSecurityGroupId: taskGroup.id });
    rule("ingress", "tasks-from-lb", taskGroup.id, CONTAINER_PORT, { referencedSecurityGroupId: lbGroup.id });
    rule("egress", "tasks-to-redis", taskGroup.id, GATEWAY_REDIS.port, { referencedSecurityGroupId: redisGroup.id });
    rule("egress", "tasks-to-https", taskGroup.id, 443, { cidrIpv4: "0.0.0.0/0" });
    if (args.tracing)
      collectorEgress(args.tracing).forEach((peer, i) =>
        rule("egress", `tasks-to-collector-${i}`, taskGroup.id, collectorPort(args.tracing!), peer),
      );
    rule("ingress", "redis-from-tasks", redisGroup.id, GATEWAY_REDIS.port, { referencedSecurityGroupId: taskGroup.id });

    // Redis: the AUTH token lives in Secrets Manager, and the replication group takes it from there.
    const generated = args.redisAuthToken === undefined;
    const { secret: tokenSecret, version: tokenVersion } = keptSecret(
      `${name}-redis-auth`,
      { description: `cloudloom gateway Redis AUTH token (${args.app}, ${args.region})`, tags },
      args.redisAuthToken ?? pulumi.secret(randomBytes(32).toString("hex")),
      child,
      // A generated token is kept: later runs generate another, which must not replace it.
      { ...child, ignoreChanges: generated ? ["secretString"] : [] },
    );
    const subnetGroup = new SubnetGroup(
      `${name}-redis`,
      { name: shortName(`${name}-redis`, 255), description: "cloudloom gateway Redis", subnetIds: args.network.subnetIds, tags },
      child,
    );
    const redis = new ReplicationGroup(
      `${name}-redis`,
      {
        replicationGroupId: shortName(`${name}-redis`, 40),
        description: `cloudloom gateway rate limits and cache (${args.app}, ${args.region})`,
        engine: GATEWAY_REDIS.engine,
        engineVersion: GATEWAY_REDIS.engineVersion,
        nodeType: GATEWAY_REDIS.nodeType,
        numCacheClusters: GATEWAY_REDIS.nodes,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        port: GATEWAY_REDIS.port,
        subnetGroupName: subnetGroup.name,
        securityGroupIds: [redisGroup.id],
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        authToken: pulumi.secret(tokenVersion.secretString.apply((token) => token!)),
        authTokenUpdateStrategy: "ROTATE",
        tags,
      },
      { ...child, ignoreChanges: generated ? ["authToken"] : [] },
    );
    const secrets: Array<{ name: string; secret: Secret }> = [{ name: GATEWAY_ENV.redisAuthToken, secret: tokenSecret }];
    /** Keeps `value` in a secret of the gateway's, which ECS gives the container as `variable`. */
    const keep = (variable: string, part: string, what: string, value: pulumi.Input<string>) =>
      secrets.push({
        name: variable,
        secret: keptSecret(
          `${name}-${part}`,
          { description: `cloudloom gateway ${what} (${args.app}, ${args.region})`, tags },
          value,
          child,
        ).secret,
      });
    if (args.apiKeys !== undefined) keep(RUNTIME_ENV.apiKeys, "api-keys", "API keys", pulumi.secret(args.apiKeys));
    keep(RUNTIME_ENV.metricsToken, "metrics-token", "metrics token", pulumi.secret(args.metricsToken));
    if (args.tracing?.headers) keep(TRACING_HEADERS_ENV, "tracing-headers", "tracing export headers", args.tracing.headers);
    if (args.demandToken) secrets.push({ name: RUNTIME_ENV.demandToken, secret: args.demandToken });

    // Roles: ECS starts the task with the execution role; the gateway signs its calls with the task role.
    const logGroup = new LogGroup(`${name}-logs`, { name: `/ecs/${name}`, retentionInDays: args.logRetentionDays ?? 14, tags }, child);
    const executionRole = new Role(`${name}-execution`, { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com"), tags }, child);
    const executionPolicy = new RolePolicy(
      `${name}-execution`,
      {
        role: executionRole.id,
        policy: pulumi
          .all([logGroup.arn, pulumi.all(secrets.map((s) => s.secret.arn))])
          .apply(([logArn, secretArns]) => gatewayExecutionPolicy(logArn, secretArns, args.image)),
      },
      child,
    );
    const taskRole = new Role(`${name}-task`, { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com"), tags }, child);
    const taskPolicy = new RolePolicy(
      `${name}-task`,
      {
        role: taskRole.id,
        policy: pulumi
          .all([
            pulumi.all(args.access.functionArns),
            pulumi.all(args.access.sagemakerEndpointArns),
            pulumi.all(args.access.executeApiArns),
            pulumi.all(args.access.queueArns ?? []),
            pulumi.all(args.access.tableArns ?? []),
          ])
          .apply(([functionArns, sagemakerEndpointArns, executeApiArns, queueArns, tableArns]) =>
            gatewayTaskPolicy({ functionArns, sagemakerEndpointArns, executeApiArns, queueArns, tableArns }),
          ),
      },
      child,
    );

    // The load balancer: public, in the public subnets; the tasks stay in the private ones.
    const balancer = new LoadBalancer(
      name,
      {
        internal: false,
        loadBalancerType: "application",
        subnets: args.network.publicSubnetIds,
        securityGroups: [lbGroup.id],
        dropInvalidHeaderFields: true,
        ...(args.loadBalancerLogs ? { accessLogs: args.loadBalancerLogs.accessLogs } : {}),
        tags,
      },
      { ...child, dependsOn: args.loadBalancerLogs?.dependsOn ?? [] },
    );
    const targets = new TargetGroup(
      name,
      {
        port: CONTAINER_PORT,
        protocol: "HTTP",
        targetType: "ip",
        vpcId,
        deregistrationDelay: 30,
        healthCheck: { protocol: "HTTP", path: HEALTH_PATHS.ready, port: "traffic-port", matcher: "200" },
        tags,
      },
      child,
    );
    const forward = [{ type: "forward", targetGroupArn: targets.arn }];
    const listeners = args.certificateArn
      ? [
          new Listener(
            `${name}-https`,
            {
              loadBalancerArn: balancer.arn,
              port: 443,
              protocol: "HTTPS",
              sslPolicy: TLS_POLICY,
              certificateArn: args.certificateArn,
              defaultActions: forward,
              tags,
            },
            child,
          ),
          new Listener(
            `${name}-http`,
            {
              loadBalancerArn: balancer.arn,
              port: 80,
              protocol: "HTTP",
              defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
              tags,
            },
            child,
          ),
        ]
      : [new Listener(`${name}-http`, { loadBalancerArn: balancer.arn, port: 80, protocol: "HTTP", defaultActions: forward, tags }, child)];

    // The service: the runtime image, bootstrapped from its environment into `cloudloom serve --spec --endpoints --config`.
    const settings = pulumi.output(redis.primaryEndpointAddress).apply((host) =>
      JSON.stringify({
        // The load balancer connects from addresses in the VPC: only they may set X-Forwarded-For.
        trustedProxies: [args.network.cidrBlock],
        redis: { url: `rediss://${host}:${GATEWAY_REDIS.port}` },
      }),
    );
    const { entryPoint, command } = gatewayContainerCommand();
    const containerDefinitions = pulumi
      .all([pulumi.output(args.endpoints), settings, logGroup.name, pulumi.all(secrets.map((s) => s.secret.arn))])
      .apply(([endpoints, config, logGroupName, secretArns]) =>
        JSON.stringify([
          {
            name: CONTAINER,
            image: args.image,
            essential: true,
            entryPoint,
            command,
            portMappings: [{ containerPort: CONTAINER_PORT, protocol: "tcp" }],
            environment: [
              { name: GATEWAY_ENV.spec, value: args.spec },
              { name: GATEWAY_ENV.endpoints, value: JSON.stringify(endpoints) },
              { name: GATEWAY_ENV.config, value: config },
              { name: RUNTIME_ENV.region, value: args.region },
              { name: "LOG_FORMAT", value: "json" },
              ...Object.entries(tracingEnvironment(args.tracing, args.app)).map(([variable, value]) => ({ name: variable, value })),
            ],
            secrets: secrets.map((s, i) => ({ name: s.name, valueFrom: secretArns[i] })),
            logConfiguration: {
              logDriver: "awslogs",
              options: { "awslogs-group": logGroupName, "awslogs-region": args.awsRegion, "awslogs-stream-prefix": CONTAINER },
            },
            stopTimeout: 30,
          },
        ]),
      );
    const task = new TaskDefinition(
      name,
      {
        family: name,
        cpu: GATEWAY_SERVICE.cpu,
        memory: GATEWAY_SERVICE.memory,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: executionRole.arn,
        taskRoleArn: taskRole.arn,
        containerDefinitions,
        tags,
      },
      { ...child, dependsOn: [executionPolicy, taskPolicy] },
    );
    const cluster = new Cluster(name, { name, settings: [{ name: "containerInsights", value: "enabled" }], tags }, child);
    const service = new Service(
      name,
      {
        name,
        cluster: cluster.arn,
        taskDefinition: task.arn,
        launchType: "FARGATE",
        desiredCount: GATEWAY_SERVICE.minTasks,
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        healthCheckGracePeriodSeconds: 30,
        networkConfiguration: { subnets: args.network.subnetIds, securityGroups: [taskGroup.id], assignPublicIp: false },
        loadBalancers: [{ targetGroupArn: targets.arn, containerName: CONTAINER, containerPort: CONTAINER_PORT }],
        propagateTags: "SERVICE",
        tags,
      },
      { ...child, dependsOn: listeners, ignoreChanges: ["desiredCount"] },
    );
    const scaling = new ScalableTarget(
      `${name}-scaling`,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${cluster.name}/${service.name}`,
        minCapacity: GATEWAY_SERVICE.minTasks,
        maxCapacity: GATEWAY_SERVICE.maxTasks,
        tags,
      },
      child,
    );
    trackTarget(name, scaling, "ECSServiceAverageCPUUtilization", GATEWAY_SERVICE.targetCpuPercent, child);

    this.dnsName = balancer.dnsName;
    this.zoneId = balancer.zoneId;
    this.url = pulumi.interpolate`${args.certificateArn ? "https" : "http"}://${balancer.dnsName}`;
    this.registerOutputs({ url: this.url });
  }
}

/** The central region whose gateway URL the stack outputs without DNS: the first central gateway region, else the first. */
function urlRegion(context: AwsContext, regions: string[]): string {
  return regions.find((region) => context.spec.regions[region].kind === "central") ?? regions[0];
}

/**
 * The gateways whose demand (DEMAND_PATH) KEDA on an EKS cluster reads, so a
 * request a gateway holds wakes a GPU model from zero. The gateways run on
 * ECS behind public load balancers, which the cluster reaches over its NAT:
 * without certificates, every region's load balancer over HTTP (each region's
 * gateway counts only the requests it holds itself, and KEDA wakes the model
 * when any of them holds one). With certificates, the load balancers' own
 * names are not on them, so KEDA reads `https://<gatewayDomain>` when there is
 * one (the latency record's nearest gateway, normally the cluster's own
 * region's), and no gateway when there is not (the model then scales from
 * zero only on its other triggers: see the README).
 */
export function demandGateways(context: AwsContext): pulumi.Output<string>[] {
  const settings = context.args.gateway ?? {};
  if (settings.certificateArn !== undefined)
    return settings.dnsZoneId && settings.domain ? [pulumi.output(`https://${settings.domain}`)] : [];
  context.gatewayAddresses ??= new LaterUrls(gatewayRegions(context.spec));
  return context.gatewayAddresses.all();
}

/**
 * The gateway step: a gateway in each region with backends, each calling
 * every region's backends (its own first, then central, as the spec's
 * localities say), and, with a DNS zone, latency records for the domain.
 */
export function placeGateway(context: AwsContext): void {
  const { spec, args, name, parent } = context;
  const regions = gatewayRegions(spec);
  if (regions.length === 0) {
    context.gatewayUrl = pulumi.output("");
    return;
  }
  const settings = args.gateway ?? {};
  const access: GatewayAccess<pulumi.Input<string>> = {
    functionArns: [...context.functions.values()],
    sagemakerEndpointArns: [...context.models.values()].filter((m) => m.access.kind === "sagemaker").map((m) => m.access.arn),
    executeApiArns: [...context.models.values()].filter((m) => m.access.kind === "execute-api").map((m) => m.access.arn),
    queueArns: [...context.queues.values()].map((queue) => queue.queueArn),
    tableArns: [...context.queues.values()].map((queue) => queue.tableArn),
  };
  const endpoints = pulumi.output(context.endpoints) as pulumi.Output<EndpointsMap>;
  const gateways = new Map<string, AwsGateway>();
  for (const region of regions) {
    const { provider, awsRegion } = context.regions.get(region)!;
    const network = args.networks[region] as AwsGatewayArgs["network"];
    const gatewayName = resourceName(name, region, "gateway");
    const gateway = new AwsGateway(
      gatewayName,
      {
        app: spec.app,
        region,
        awsRegion,
        network,
        image: args.runtimeImage ?? DEFAULT_RUNTIME_IMAGE,
        // Compact: the spec travels in the task's environment.
        spec: JSON.stringify(JSON.parse(toCanonicalJson(spec))),
        endpoints,
        access,
        certificateArn: certificateFor(settings.certificateArn, region, awsRegion),
        redisAuthToken: settings.redisAuthToken,
        apiKeys: settings.apiKeys,
        metricsToken: metricsToken(context),
        logRetentionDays: args.logRetentionDays,
        loadBalancerLogs: accessLogsIn(context, region).forLoadBalancer(gatewayName),
        tracing: args.tracing,
        demandToken: gatewayDemandToken(context, region),
      },
      { parent, provider },
    );
    gateways.set(region, gateway);
    context.gatewayAddresses?.resolve(region, gateway.url);
    if (settings.dnsZoneId && settings.domain)
      new DnsRecord(
        `${gatewayName}-dns`,
        {
          zoneId: settings.dnsZoneId,
          name: settings.domain,
          type: "A",
          setIdentifier: dnsSafe(region),
          latencyRoutingPolicies: [{ region: awsRegion }],
          aliases: [{ name: gateway.dnsName, zoneId: gateway.zoneId, evaluateTargetHealth: true }],
        },
        { parent, provider },
      );
  }
  const scheme = settings.certificateArn ? "https" : "http";
  context.gatewayUrl =
    settings.dnsZoneId && settings.domain
      ? pulumi.output(`${scheme}://${settings.domain}`)
      : gateways.get(urlRegion(context, regions))!.url;
}
