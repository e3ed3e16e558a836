import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import example from "../../../../examples/support-desk/app";
import { App } from "../../../../sdk";
import { AwsApp } from "../../../../providers/aws/app";
import { certificateFor, parseGatewaySettings } from "../../../../providers/aws/gateway-settings";
import { ecrRepositoryArn } from "../../../../providers/aws/iam";
import { gatewayContainerCommand } from "../../../../providers/shared/gateway-container";

const ACCOUNT = "123456789012";
const CERT = (region: string) => `arn:aws:acm:${region}:${ACCOUNT}:certificate/0a1b2c3d-0000-4000-8000-00000000000${region.length}`;

interface Registered {
  type: string;
  name: string;
  inputs: any;
}

/** Mocks that answer resources with the outputs AWS computes, and refuse every provider call. */
async function mock(registered: Registered[]): Promise<void> {
  const regions = new Map<string, string>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const id = `${args.name}-id`;
        if (args.type === "pulumi:providers:aws") regions.set(id, String(args.inputs.region));
        const region = regions.get(args.provider?.slice(args.provider.lastIndexOf("::") + 2) ?? "") ?? "us-east-1";
        const service = args.type.split(":")[1]?.split("/")[0];
        const state: Record<string, unknown> = { ...args.inputs, arn: `arn:aws:${service}:${region}:${ACCOUNT}:${args.name}` };
        if (args.type === "aws:lambda/function:Function") state.version = "1";
        if (args.type === "aws:lambda/functionUrl:FunctionUrl") state.functionUrl = `https://${args.name}.lambda-url.${region}.on.aws/`;
        if (args.type === "aws:s3/bucket:Bucket") state.bucket = `${args.name}-bucket`;
        if (args.type === "aws:lb/loadBalancer:LoadBalancer") {
          state.dnsName = `${args.name}-123.${region}.elb.amazonaws.com`;
          state.zoneId = `ZONE-${region}`;
        }
        if (args.type === "aws:elasticache/replicationGroup:ReplicationGroup")
          state.primaryEndpointAddress = `master.${args.inputs.replicationGroupId}.cache.amazonaws.com`;
        return { id, state };
      },
      call(args) {
        throw new Error(`unexpected provider call ${args.token}`);
      },
    },
    "cloudloom",
    "gateway-test",
  );
}

/** Resolves an output, with its nested outputs. */
const settle = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply((value) => resolve(value)));
/** Lets every registration and apply finish. */
const drain = () => new Promise((resolve) => setTimeout(resolve, 200));

/** A two-region app without GPUs: a function in both, a CPU model (SageMaker) at the edge. */
function smallApp() {
  const app = new App("shop", { root: example.root });
  const central = app.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
  const edge = app.region("edge-paris", { kind: "edge", localities: ["fr"], placement: { aws: { region: "eu-west-3" } } });
  const intent = app.model("intent", {
    version: "1",
    artifact: example.toSpec().models["intent@1"].artifact,
    signature: example.toSpec().models["intent@1"].signature,
    regions: [edge],
  });
  const fn = app.function("classify", {
    handler: "functions/classify.ts",
    memory: "512 MB",
    timeout: "10 seconds",
    environment: { LOG_LEVEL: "info" },
    models: [intent],
    regions: [central, edge],
  });
  app.route("POST /v1/classify", { target: fn });
  return app.toSpec({ target: "aws" });
}

const network = (n: number) => ({
  vpcId: `vpc-0${n}`,
  subnetIds: [`subnet-0${n}1`, `subnet-0${n}2`],
  publicSubnetIds: [`subnet-0${n}3`, `subnet-0${n}4`],
  cidrBlock: `10.${n}.0.0/16`,
});

describe("AWS gateway (ECS Fargate, ALB, ElastiCache, Route 53) under mocks", () => {
  const registered: Registered[] = [];
  let app: AwsApp;
  const all = (type: string) => registered.filter((r) => r.type === type);
  const one = (type: string, name: string) => {
    const found = all(type).filter((r) => r.name === name);
    assert.equal(found.length, 1, `one ${type} ${name}`);
    return found[0].inputs;
  };
  const doc = (r: any) => JSON.parse(r.policy);

  before(async () => {
    await mock(registered);
    app = new AwsApp("shop", {
      spec: smallApp(),
      root: example.root,
      networks: { central: network(1), "edge-paris": network(2) },
      sagemakerImage: `${ACCOUNT}.dkr.ecr.eu-west-3.amazonaws.com/cloudloom-runtime:0.1.0`,
      runtimeImage: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/cloudloom-runtime:0.1.0`,
      gateway: {
        certificateArn: { central: CERT("eu-west-1"), "edge-paris": CERT("eu-west-3") },
        dnsZoneId: "Z0123456789ABCDEFGHIJ",
        domain: "api.shop.example",
        redisAuthToken: pulumi.secret("configured-token-0123456789"),
      },
    });
    await settle(app.endpoints);
    await drain();
  });

  it("creates the gateway's resources in each region with backends", () => {
    const perRegion = (region: string) =>
      registered.filter((r) => r.name.startsWith(`shop-${region}-gateway`) && r.type.startsWith("aws:")).map((r) => r.type);
    const expected = [
      "aws:appautoscaling/policy:Policy",
      "aws:appautoscaling/target:Target",
      "aws:cloudwatch/logGroup:LogGroup",
      ...Array(3).fill("aws:ec2/securityGroup:SecurityGroup"),
      "aws:ecs/cluster:Cluster",
      "aws:ecs/service:Service",
      "aws:ecs/taskDefinition:TaskDefinition",
      "aws:elasticache/replicationGroup:ReplicationGroup",
      "aws:elasticache/subnetGroup:SubnetGroup",
      ...Array(2).fill("aws:iam/role:Role"),
      ...Array(2).fill("aws:iam/rolePolicy:RolePolicy"),
      ...Array(2).fill("aws:lb/listener:Listener"),
      "aws:lb/loadBalancer:LoadBalancer",
      "aws:lb/targetGroup:TargetGroup",
      "aws:route53/record:Record",
      // The Redis AUTH token's and the metrics token's.
      ...Array(2).fill("aws:secretsmanager/secret:Secret"),
      ...Array(2).fill("aws:secretsmanager/secretVersion:SecretVersion"),
      ...Array(3).fill("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
      ...Array(4).fill("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
    ];
    assert.deepEqual(perRegion("central").sort(), expected);
    assert.deepEqual(perRegion("edge-paris").sort(), expected);
    const service = one("aws:ecs/service:Service", "shop-edge-paris-gateway");
    assert.deepEqual(
      [service.launchType, service.desiredCount, service.networkConfiguration, service.deploymentCircuitBreaker],
      [
        "FARGATE",
        2,
        { subnets: ["subnet-021", "subnet-022"], securityGroups: ["shop-edge-paris-gateway-tasks-id"], assignPublicIp: false },
        { enable: true, rollback: true },
      ],
    );
    assert.deepEqual(service.loadBalancers, [
      { targetGroupArn: "arn:aws:lb:eu-west-3:123456789012:shop-edge-paris-gateway", containerName: "gateway", containerPort: 8080 },
    ]);
    const scaling = one("aws:appautoscaling/target:Target", "shop-edge-paris-gateway-scaling");
    assert.deepEqual(
      [scaling.scalableDimension, scaling.minCapacity, scaling.resourceId],
      ["ecs:service:DesiredCount", 2, "service/shop-edge-paris-gateway/shop-edge-paris-gateway"],
    );
    const balancer = one("aws:lb/loadBalancer:LoadBalancer", "shop-edge-paris-gateway");
    assert.deepEqual(
      [balancer.internal, balancer.subnets, balancer.securityGroups],
      [false, ["subnet-023", "subnet-024"], ["shop-edge-paris-gateway-lb-id"]],
    );
    assert.equal(one("aws:lb/targetGroup:TargetGroup", "shop-edge-paris-gateway").healthCheck.path, "/readyz");
    assert.equal(one("aws:cloudwatch/logGroup:LogGroup", "shop-edge-paris-gateway-logs").retentionInDays, 14);
  });

  it("serves HTTPS with the region's certificate, and redirects port 80", () => {
    const https = one("aws:lb/listener:Listener", "shop-edge-paris-gateway-https");
    assert.deepEqual(
      [https.port, https.protocol, https.certificateArn, https.sslPolicy],
      [443, "HTTPS", CERT("eu-west-3"), "ELBSecurityPolicy-TLS13-1-2-2021-06"],
    );
    assert.equal(https.defaultActions[0].type, "forward");
    const http = one("aws:lb/listener:Listener", "shop-edge-paris-gateway-http");
    assert.deepEqual([http.port, http.defaultActions[0].redirect], [80, { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" }]);
  });

  it("opens the load balancer to the internet on 80/443 only, the tasks to the load balancer only, Redis to the tasks only", () => {
    const rules = [
      ...all("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
      ...all("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
    ].filter((r) => r.name.startsWith("shop-central-gateway"));
    const describe = (r: Registered) =>
      [
        r.type.includes("Ingress") ? "in" : "out",
        r.inputs.securityGroupId,
        r.inputs.fromPort,
        r.inputs.toPort,
        r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId,
      ].join(" ");
    const g = (part: string) => `shop-central-gateway-${part}-id`;
    assert.deepEqual(rules.map(describe).sort(), [
      `in ${g("lb")} 443 443 0.0.0.0/0`,
      `in ${g("lb")} 80 80 0.0.0.0/0`,
      `in ${g("redis")} 6379 6379 ${g("tasks")}`,
      `in ${g("tasks")} 8080 8080 ${g("lb")}`,
      `out ${g("lb")} 8080 8080 ${g("tasks")}`,
      `out ${g("tasks")} 443 443 0.0.0.0/0`,
      `out ${g("tasks")} 6379 6379 ${g("redis")}`,
    ]);
    for (const rule of rules) assert.equal(rule.inputs.ipProtocol, "tcp");
  });

  it("encrypts Redis in transit and at rest, in the private subnets, with the AUTH token from Secrets Manager", async () => {
    const redis = one("aws:elasticache/replicationGroup:ReplicationGroup", "shop-central-gateway-redis");
    assert.deepEqual(
      [
        redis.transitEncryptionEnabled,
        redis.atRestEncryptionEnabled,
        redis.securityGroupIds,
        redis.subnetGroupName,
        redis.numCacheClusters,
        redis.automaticFailoverEnabled,
      ],
      [true, true, ["shop-central-gateway-redis-id"], "shop-central-gateway-redis", 2, true],
    );
    assert.ok(redis.replicationGroupId.length <= 40);
    assert.deepEqual(one("aws:elasticache/subnetGroup:SubnetGroup", "shop-central-gateway-redis").subnetIds, ["subnet-011", "subnet-012"]);
    const version = one("aws:secretsmanager/secretVersion:SecretVersion", "shop-central-gateway-redis-auth");
    assert.equal(version.secretId, "shop-central-gateway-redis-auth-id");
    // Secrets reach the mock monitor as secret values: the token is the configured one, and stays secret.
    const secretValue = (v: any) => v?.value ?? v;
    assert.equal(secretValue(version.secretString), "configured-token-0123456789");
    assert.equal(secretValue(redis.authToken), "configured-token-0123456789");
  });

  it("generates a token with node:crypto when none is configured, kept as a secret", async () => {
    const generated: Registered[] = [];
    await mock(generated);
    new AwsApp("gen", {
      spec: { ...smallApp(), app: "gen" },
      root: example.root,
      networks: { central: network(1), "edge-paris": network(2) },
      sagemakerImage: "img",
    });
    await drain();
    const version = generated.find(
      (r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && r.name.endsWith("-redis-auth"),
    )!.inputs;
    const secretSignature = "4dabf18193072939515e22adb298388d";
    assert.ok(secretSignature in version.secretString, "the generated token is a Pulumi secret");
    assert.ok(secretSignature in generated.find((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup")!.inputs.authToken);
    const token = version.secretString.value;
    assert.match(token, /^[0-9a-f]{64}$/);
    const redis = generated.find((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup")!.inputs;
    assert.equal(redis.authToken.value ?? redis.authToken, token);
    assert.equal(
      generated.filter((r) => r.type === "aws:lb/listener:Listener" && r.inputs.protocol === "HTTPS").length,
      0,
      "HTTP without a certificate",
    );
    await mock(registered);
  });

  it("generates one metrics token for the stack, kept in its first central region, and copies it into each gateway region's secret", () => {
    const kept = one("aws:secretsmanager/secretVersion:SecretVersion", "shop-metrics-token");
    assert.equal(kept.secretId, "shop-metrics-token-id");
    const token = kept.secretString.value;
    assert.match(token, /^[0-9a-f]{48}$/);
    for (const region of ["central", "edge-paris"]) {
      const copy = one("aws:secretsmanager/secretVersion:SecretVersion", `shop-${region}-gateway-metrics-token`);
      assert.equal(copy.secretString.value, token, `${region}'s gateway reads the stack's one token`);
      assert.ok(!one("aws:ecs/taskDefinition:TaskDefinition", `shop-${region}-gateway`).containerDefinitions.includes(token));
    }
  });

  it("lets the task role sign calls to exactly the app's Function URLs and model endpoints, and nothing else", () => {
    const policy = doc(one("aws:iam/rolePolicy:RolePolicy", "shop-central-gateway-task"));
    assert.deepEqual(policy.Statement, [
      {
        Effect: "Allow",
        Action: ["lambda:InvokeFunctionUrl"],
        Resource: [
          "arn:aws:lambda:eu-west-1:123456789012:shop-fn-classify-central-live",
          "arn:aws:lambda:eu-west-3:123456789012:shop-fn-classify-edge-paris-live",
        ],
      },
      {
        Effect: "Allow",
        Action: ["sagemaker:InvokeEndpoint"],
        Resource: ["arn:aws:sagemaker:eu-west-3:123456789012:shop-intent-v1-edge-paris"],
      },
    ]);
    for (const statement of policy.Statement)
      for (const value of [...statement.Action, ...statement.Resource]) assert.ok(!value.includes("*"), value);
    assert.equal(
      JSON.parse(one("aws:iam/role:Role", "shop-central-gateway-task").assumeRolePolicy).Statement[0].Principal.Service,
      "ecs-tasks.amazonaws.com",
    );
    const execution = doc(one("aws:iam/rolePolicy:RolePolicy", "shop-central-gateway-execution"));
    assert.deepEqual(
      execution.Statement.map((s: any) => [s.Action, s.Resource]),
      [
        [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:cloudwatch:eu-west-1:123456789012:shop-central-gateway-logs:*"]],
        [
          ["secretsmanager:GetSecretValue"],
          [
            "arn:aws:secretsmanager:eu-west-1:123456789012:shop-central-gateway-redis-auth",
            "arn:aws:secretsmanager:eu-west-1:123456789012:shop-central-gateway-metrics-token",
          ],
        ],
        [["ecr:GetAuthorizationToken"], ["*"]],
        [["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], ["arn:aws:ecr:eu-west-1:123456789012:repository/cloudloom-runtime"]],
      ],
    );
  });

  it("hands the task its spec, the stack's endpoints and its settings, and the Redis token through the task's secrets", async () => {
    const task = one("aws:ecs/taskDefinition:TaskDefinition", "shop-central-gateway");
    assert.deepEqual(
      [task.networkMode, task.requiresCompatibilities, task.taskRoleArn],
      ["awsvpc", ["FARGATE"], "arn:aws:iam:eu-west-1:123456789012:shop-central-gateway-task"],
    );
    const [container] = JSON.parse(task.containerDefinitions);
    const env = Object.fromEntries(container.environment.map((e: any) => [e.name, e.value]));
    assert.equal(JSON.parse(env.CLOUDLOOM_GATEWAY_SPEC).app, "shop");
    assert.deepEqual(JSON.parse(env.CLOUDLOOM_GATEWAY_ENDPOINTS), await settle(app.endpoints));
    assert.deepEqual(JSON.parse(env.CLOUDLOOM_GATEWAY_CONFIG), {
      trustedProxies: ["10.1.0.0/16"],
      redis: { url: "rediss://master.shop-central-gateway-redis.cache.amazonaws.com:6379" },
    });
    assert.equal(env.CLOUDLOOM_REGION, "central");
    assert.deepEqual(container.secrets, [
      { name: "CLOUDLOOM_REDIS_AUTH_TOKEN", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:shop-central-gateway-redis-auth" },
      { name: "CLOUDLOOM_METRICS_TOKEN", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:shop-central-gateway-metrics-token" },
    ]);
    assert.ok(!task.containerDefinitions.includes("configured-token"), "the token is not in the task definition");
    assert.deepEqual(container.command.slice(0, 5), [
      "serve",
      "--spec",
      "/tmp/cloudloom/spec.json",
      "--endpoints",
      "/tmp/cloudloom/endpoints.json",
    ]);
    assert.deepEqual(container.command.slice(-2), ["--config", "/tmp/cloudloom/config.json"]);
    assert.deepEqual(container.portMappings, [{ containerPort: 8080, protocol: "tcp" }]);
    assert.equal(container.logConfiguration.options["awslogs-group"], "/ecs/shop-central-gateway");
  });

  it("points one latency record per region at its load balancer, and outputs the domain as gatewayUrl", async () => {
    const records = all("aws:route53/record:Record").map((r) => r.inputs);
    assert.deepEqual(
      records.map((r) => [r.zoneId, r.name, r.type, r.setIdentifier, r.latencyRoutingPolicies, r.aliases]),
      [
        [
          "Z0123456789ABCDEFGHIJ",
          "api.shop.example",
          "A",
          "central",
          [{ region: "eu-west-1" }],
          [{ name: "shop-central-gateway-123.eu-west-1.elb.amazonaws.com", zoneId: "ZONE-eu-west-1", evaluateTargetHealth: true }],
        ],
        [
          "Z0123456789ABCDEFGHIJ",
          "api.shop.example",
          "A",
          "edge-paris",
          [{ region: "eu-west-3" }],
          [{ name: "shop-edge-paris-gateway-123.eu-west-3.elb.amazonaws.com", zoneId: "ZONE-eu-west-3", evaluateTargetHealth: true }],
        ],
      ],
    );
    assert.equal(await settle(app.gatewayUrl), "https://api.shop.example");
  });

  it("outputs the central load balancer as gatewayUrl without DNS", async () => {
    const local: Registered[] = [];
    await mock(local);
    const plain = new AwsApp("nodns", {
      spec: { ...smallApp(), app: "nodns" },
      root: example.root,
      networks: { central: network(1), "edge-paris": network(2) },
      sagemakerImage: "img",
    });
    assert.equal(await settle(plain.gatewayUrl), "http://nodns-central-gateway-123.eu-west-1.elb.amazonaws.com");
    await drain();
    assert.equal(local.filter((r) => r.type === "aws:route53/record:Record").length, 0);
    await mock(registered);
  });
});

describe("AWS gateway settings and bootstrap", () => {
  it("reads and checks the stack settings", () => {
    const from = (values: Record<string, string>) =>
      parseGatewaySettings({
        get: (key) => values[key],
        getSecret: (key) => (values[key] === undefined ? undefined : pulumi.secret(values[key])),
      });
    assert.deepEqual(from({ certificateArn: JSON.stringify({ central: CERT("eu-west-1") }) }).certificateArn, {
      central: CERT("eu-west-1"),
    });
    assert.throws(() => from({ dnsZoneId: "Z0123456789ABCDEFGHIJ" }), /cloudloom:dnsZoneId and cloudloom:gatewayDomain go together/);
    assert.throws(
      () => from({ gatewayDomain: "API.example.com", dnsZoneId: "Z01" }),
      /cloudloom:gatewayDomain must be a lower-case DNS name/,
    );
    assert.throws(() => from({ certificateArn: "arn:aws:iam::1:cert" }), /cloudloom:certificateArn must be an ACM certificate ARN/);
    assert.equal(certificateFor(CERT("eu-west-1"), "central", "eu-west-1"), CERT("eu-west-1"));
    assert.throws(
      () => certificateFor(CERT("eu-west-1"), "edge-paris", "eu-west-3"),
      /ACM certificates are regional.*cloudloom:certificateArn\.edge-paris/,
    );
    assert.equal(ecrRepositoryArn("ghcr.io/cloudloom/runtime:0.1.0"), undefined);
  });

  it("writes the spec, the endpoints and the settings (the token as the Redis password, mode 0600), then execs serve", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "cloudloom-gw-")), "config");
    const { entryPoint, command } = gatewayContainerCommand(dir, ["echo"]);
    const out = execFileSync(entryPoint[0], [...entryPoint.slice(1), ...command], {
      env: {
        PATH: process.env.PATH,
        CLOUDLOOM_GATEWAY_SPEC: '{"app":"shop"}',
        CLOUDLOOM_GATEWAY_ENDPOINTS: '{"functions":{},"models":{}}',
        CLOUDLOOM_GATEWAY_CONFIG: JSON.stringify({
          trustedProxies: ["10.1.0.0/16"],
          redis: { url: "rediss://master.x.cache.amazonaws.com:6379" },
        }),
        CLOUDLOOM_REDIS_AUTH_TOKEN: "to#ken&with$^<>!-0123",
      },
      encoding: "utf8",
    });
    assert.equal(
      out.trim(),
      `serve --spec ${dir}/spec.json --endpoints ${dir}/endpoints.json --host 0.0.0.0 --port 8080 --config ${dir}/config.json`,
    );
    assert.equal(readFileSync(`${dir}/spec.json`, "utf8"), '{"app":"shop"}');
    const config = JSON.parse(readFileSync(`${dir}/config.json`, "utf8"));
    const url = new URL(config.redis.url);
    assert.equal(decodeURIComponent(url.password), "to#ken&with$^<>!-0123");
    assert.equal(url.host, "master.x.cache.amazonaws.com:6379");
    assert.equal(statSync(`${dir}/config.json`).mode & 0o777, 0o600);
  });
});
