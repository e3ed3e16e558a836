import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import type { PlanEntry } from "../../../../cli/plan";

const byType = (plan: Plan, type: string) => plan.resources.filter((r) => r.type === type);
const only = (plan: Plan, type: string, name?: string): any => {
  const found = byType(plan, type).filter((r) => name === undefined || r.name === name);
  assert.equal(found.length, 1, `one ${type}${name ? ` ${name}` : ""}`);
  return found[0].inputs;
};
/** The files of a planned asset archive, by path. */
async function archiveFiles(archive: { assets: Promise<Record<string, { text: Promise<string> }>> }): Promise<Record<string, string>> {
  const assets = await archive.assets;
  return Object.fromEntries(await Promise.all(Object.entries(assets).map(async ([path, asset]) => [path, await asset.text])));
}
const statements = (r: PlanEntry): any[] => JSON.parse(String((r.inputs as any).policy ?? (r.inputs as any).assumeRolePolicy)).Statement;

describe("AWS app (the example under mocks, from Pulumi.dev-aws.yaml)", () => {
  let plan: Plan;

  before(async () => {
    plan = await planApp("examples/support-desk", "aws", stackConfig("aws"));
  });

  it("creates exactly the documented resource types", () => {
    const readme = readFileSync(require.resolve("../../../../providers/aws/README.md"), "utf8");
    const documented = new Set([...readme.matchAll(/`((?:aws|kubernetes):[^`]+)`/g)].map((m) => m[1]));
    const created = new Set(plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).map((r) => r.type));
    assert.deepEqual([...created].sort(), [...documented].sort());
  });

  it("ships the cloudloom runtime once per region as a layer, and each function's package holds only its handler", async () => {
    const layer = only(plan, "aws:lambda/layerVersion:LayerVersion", "support-desk-central-runtime");
    assert.deepEqual([layer.layerName, layer.compatibleRuntimes], ["support-desk-central-runtime", ["nodejs24.x"]]);
    const runtime = await archiveFiles(layer.code);
    assert.deepEqual(Object.keys(runtime), [
      "nodejs/node_modules/cloudloom-runtime/index.js",
      "nodejs/node_modules/cloudloom-runtime/tracing.js",
    ]);
    assert.match(
      runtime["nodejs/node_modules/cloudloom-runtime/tracing.js"],
      /invocationTracing/,
      "tracing, loaded only by a function that traces",
    );
    assert.match(runtime["nodejs/node_modules/cloudloom-runtime/index.js"], /lambdaHandler/);
    const fn = only(plan, "aws:lambda/function:Function", "support-desk-fn-classify-central");
    assert.deepEqual(fn.layers, ["arn:aws:lambda:eu-west-1:123456789012:support-desk-central-runtime"]);
    const handler = (await archiveFiles(fn.code))["index.js"];
    assert.deepEqual(handler.match(/require\("[^"]+"\)/g), ['require("cloudloom-runtime")'], "the runtime comes from the layer");
    assert.ok(handler.length < 8_000, `the handler's package is ${handler.length} bytes`);
  });

  it("gives each region one explicit provider, and every AWS resource the provider of its own region", () => {
    const providers = byType(plan, "pulumi:providers:aws");
    assert.deepEqual(
      providers.map((p) => [p.name, (p.inputs as any).region]),
      [
        ["support-desk-central", "eu-west-1"],
        ["support-desk-edge-berlin", "eu-central-1"],
      ],
    );
    const aws = plan.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
    assert.ok(aws.length > 80);
    for (const r of aws) {
      const region = /central-models|central-artifacts|-central(-|$)/.test(r.name) ? "central" : "edge-berlin";
      assert.match(
        r.provider ?? "",
        new RegExp(`pulumi:providers:aws::support-desk-${region}::`),
        `${r.type} ${r.name} uses ${r.provider}`,
      );
    }
    for (const r of plan.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:")))
      assert.match(r.provider ?? "", /pulumi:providers:kubernetes::support-desk-(central|edge-berlin)-eks::/, `${r.type} ${r.name}`);
  });

  it("runs each function on Lambda from its bundled handler, SigV4-only, with least-privilege access to its region's model", () => {
    const fn = only(plan, "aws:lambda/function:Function", "support-desk-fn-classify-central");
    assert.deepEqual([fn.runtime, fn.handler, fn.memorySize, fn.timeout, fn.publish], ["nodejs24.x", "index.handler", 512, 10, true]);
    // The declared secret (CRM_TOKEN) is not in the function's configuration: only its Secrets Manager secret's ARN is.
    const secretSignature = "4dabf18193072939515e22adb298388d";
    assert.ok(!(secretSignature in fn.environment), "the function's environment holds no secret");
    const variables = fn.environment.variables;
    assert.ok(!("CRM_TOKEN" in variables));
    assert.ok(!JSON.stringify(fn).includes("offline-placeholder"), "the secret's value is nowhere in the function");
    const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:support-desk-fn-classify-central-secrets";
    assert.equal(variables.CLOUDLOOM_SECRETS_ARN, secretArn);
    const version = only(plan, "aws:secretsmanager/secretVersion:SecretVersion", "support-desk-fn-classify-central-secrets");
    assert.ok(secretSignature in version.secretString, "the secret's value is a Pulumi secret");
    assert.deepEqual(
      JSON.parse(version.secretString.value),
      // The demand reports' token (demand-token.ts) is kept with the declared secrets.
      { CLOUDLOOM_DEMAND_TOKEN: "offline-placeholder-demand-token", CRM_TOKEN: "offline-placeholder" },
      "from stack config cloudloom:secrets",
    );
    for (const lambda of byType(plan, "aws:lambda/function:Function"))
      assert.ok(!JSON.stringify(lambda.inputs).includes("offline-placeholder"), `${lambda.name} holds no secret value`);
    const runtime = JSON.parse(variables.CLOUDLOOM_RUNTIME);
    assert.deepEqual(runtime.models.intent, {
      key: "intent@1",
      version: "1",
      endpoint: {
        url: "https://support-desk-central-models.execute-api.eu-west-1.amazonaws.com/models/intent-v1",
        exact: true,
        sigv4: { service: "execute-api", region: "eu-west-1" },
      },
      // The bursty policy scales to zero: calls wait out the model's start, within the default hold.
      hold: { maxPending: 100, maxWaitMs: 30_000 },
      region: "central",
    });
    assert.deepEqual(runtime.env, ["CRM_TOKEN", "LOG_LEVEL"]);
    assert.equal(variables.LOG_LEVEL, "info");
    for (const url of byType(plan, "aws:lambda/functionUrl:FunctionUrl")) assert.equal((url.inputs as any).authorizationType, "AWS_IAM");
    const policy = plan.resources.find((r) => r.name === "support-desk-fn-classify-central-policy")!;
    assert.deepEqual(
      statements(policy).map((s) => [s.Action, s.Resource]),
      [
        [
          ["logs:CreateLogStream", "logs:PutLogEvents"],
          ["arn:aws:cloudwatch:eu-west-1:123456789012:support-desk-fn-classify-central-logs:*"],
        ],
        [["execute-api:Invoke"], ["arn:aws:execute-api:eu-west-1:123456789012:support-desk-central-models/*/POST/models/intent-v1"]],
        [["secretsmanager:GetSecretValue"], [secretArn]],
      ],
    );
    assert.equal(only(plan, "aws:cloudwatch/logGroup:LogGroup", "support-desk-fn-classify-central-logs").retentionInDays, 14);
  });

  it("grants no wildcard action anywhere, and * resources only for AWS reads that have no resource-level permissions", () => {
    const documents = plan.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
    assert.equal(
      documents.length,
      9,
      "two functions (classify, reclassify), three node groups' artifact reads (central pool, Wavelength runtime and GPU nodes), two cluster autoscalers, one gateway's task and execution roles",
    );
    for (const doc of documents) {
      for (const statement of statements(doc)) {
        assert.ok(!statement.Action.some((a: string) => a.includes("*")), `${doc.name}: ${statement.Action}`);
        if (!statement.Resource.includes("*")) continue;
        const readsOnly = statement.Action.every((a: string) => /:(Describe|Get)/.test(a));
        assert.ok(readsOnly || statement.Condition, `${doc.name} has * resources for ${statement.Action}`);
      }
    }
    const autoscaler = documents.find((d) => d.name === "support-desk-central-addons-autoscaler")!;
    assert.deepEqual(statements(autoscaler)[1].Condition, {
      StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/support-desk-central": "owned" },
    });
  });

  it("puts GPU models on EKS node groups: NVIDIA AMI, g4dn, tainted, on-demand; the Wavelength edge on the zone's own nodes", () => {
    const central = only(plan, "aws:eks/nodeGroup:NodeGroup", "support-desk-inference-t4-central");
    assert.deepEqual(
      [central.amiType, central.instanceTypes, central.capacityType, central.taints],
      ["AL2023_x86_64_NVIDIA", ["g4dn.xlarge"], "ON_DEMAND", [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]],
    );
    assert.deepEqual(central.scalingConfig, { minSize: 0, maxSize: 4, desiredSize: 0 });
    assert.equal(byType(plan, "aws:eks/nodeGroup:NodeGroup").filter((g) => g.name === "support-desk-inference-t4-edge-berlin").length, 0);
    const server = only(plan, "kubernetes:apps/v1:Deployment", "support-desk-edge-berlin-intent-v1-edge-berlin").spec.template.spec;
    assert.deepEqual(server.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions, [
      { key: "topology.kubernetes.io/zone", operator: "In", values: ["eu-central-1-wl1-ber-wlz-1"] },
    ]);
    assert.deepEqual(server.nodeSelector, { "k8s.amazonaws.com/accelerator": "nvidia-tesla-t4" });
    assert.equal(server.containers[0].resources.limits["nvidia.com/gpu"], "1");
    const fetch = server.initContainers[0];
    assert.match(fetch.image, /aws-cli/);
    assert.equal(fetch.env[0].value, "s3://support-desk-models-offline/intent/1/model.onnx");
    assert.match(fetch.command[2], /aws s3 cp .* && echo "\$ARTIFACT_SHA256  \/models\/model.onnx" \| sha256sum -c -/);
  });

  it("installs the NVIDIA device plugin, KEDA, Prometheus and the Cluster Autoscaler at pinned chart versions", () => {
    const releases = byType(plan, "kubernetes:helm.sh/v3:Release").filter((r) => r.name.startsWith("support-desk-central-"));
    assert.deepEqual(releases.map((r) => [(r.inputs as any).chart, (r.inputs as any).version]).sort(), [
      ["cluster-autoscaler", "9.43.2"],
      ["keda", "2.16.1"],
      ["nvidia-device-plugin", "0.17.0"],
      ["prometheus", "25.30.1"],
    ]);
    assert.equal(
      only(plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "support-desk-central-addons-autoscaler").serviceAccount,
      "cluster-autoscaler",
    );
  });

  it("reaches GPU models only through an AWS_IAM API route, a VPC link and an internal load balancer on the node port", () => {
    const route = only(plan, "aws:apigatewayv2/route:Route", "support-desk-central-models-intent-v1");
    assert.deepEqual([route.routeKey, route.authorizationType], ["POST /models/intent-v1", "AWS_IAM"]);
    const integration = only(plan, "aws:apigatewayv2/integration:Integration", "support-desk-central-models-intent-v1");
    assert.deepEqual(
      [integration.connectionType, integration.integrationType, integration.requestParameters],
      ["VPC_LINK", "HTTP_PROXY", { "overwrite:path": "/_cloudloom/models/intent%401" }],
    );
    const balancer = only(plan, "aws:lb/loadBalancer:LoadBalancer", "support-desk-central-models");
    assert.equal(balancer.internal, true);
    assert.equal(byType(plan, "aws:lb/loadBalancer:LoadBalancer").filter((lb) => lb.name.startsWith("support-desk-edge-berlin")).length, 0);
    const service = only(plan, "kubernetes:core/v1:Service", "support-desk-central-intent-v1-central");
    assert.deepEqual([service.spec.type, service.spec.ports[0].nodePort], ["NodePort", 30080]);
    assert.equal(only(plan, "aws:lb/targetGroup:TargetGroup", "support-desk-central-models-intent-v1").port, 30080);
    const nodes = only(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "support-desk-central-models-nodes-from-lb");
    assert.deepEqual([nodes.fromPort, nodes.toPort, nodes.securityGroupId], [30000, 32767, "sg-support-desk-central"]);
  });

  it("scales Lambda with provisioned concurrency, target tracking and scheduled floors in AWS cron with the timezone", () => {
    const target = only(plan, "aws:appautoscaling/target:Target", "support-desk-fn-classify-central-scaling");
    assert.deepEqual([target.scalableDimension, target.minCapacity, target.maxCapacity], ["lambda:function:ProvisionedConcurrency", 1, 20]);
    const provisioned = only(
      plan,
      "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
      "support-desk-fn-classify-central-provisioned",
    );
    assert.equal(provisioned.provisionedConcurrentExecutions, 1);
    const floor = only(plan, "aws:appautoscaling/scheduledAction:ScheduledAction", "support-desk-fn-classify-central-floor-0");
    assert.deepEqual(
      [floor.schedule, floor.timezone, floor.scalableTargetAction],
      ["cron(0 8 ? * 2-6 *)", "Europe/Berlin", { minCapacity: 4, maxCapacity: 20 }],
    );
    const end = only(plan, "aws:appautoscaling/scheduledAction:ScheduledAction", "support-desk-fn-classify-central-floor-0-end");
    assert.deepEqual(
      [end.schedule, end.timezone, end.scalableTargetAction, end.resourceId],
      ["cron(0 9 ? * 2-6 *)", "Europe/Berlin", { minCapacity: 1, maxCapacity: 20 }, floor.resourceId],
    );
    const tracking = only(plan, "aws:appautoscaling/policy:Policy", "support-desk-fn-classify-central-tracking");
    assert.equal(
      tracking.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType,
      "LambdaProvisionedConcurrencyUtilization",
    );
  });

  it("keeps each cluster's API endpoint private to its VPC unless cloudloom:clusterApiCidrs is set", async () => {
    for (const region of ["central", "edge-berlin"]) {
      const vpc = only(plan, "aws:eks/cluster:Cluster", `support-desk-${region}`).vpcConfig;
      assert.deepEqual([vpc.endpointPrivateAccess, vpc.endpointPublicAccess, vpc.publicAccessCidrs], [true, false, undefined]);
    }
    const limited = await planApp("examples/support-desk", "aws", {
      ...stackConfig("aws"),
      clusterApiCidrs: "203.0.113.0/24, 198.51.100.7/32",
    });
    const vpc = only(limited, "aws:eks/cluster:Cluster", "support-desk-central").vpcConfig;
    assert.deepEqual(
      [vpc.endpointPrivateAccess, vpc.endpointPublicAccess, vpc.publicAccessCidrs],
      [true, true, ["203.0.113.0/24", "198.51.100.7/32"]],
    );
    // The Kubernetes provider still gets its kubeconfig from the cluster.
    assert.equal(limited.resources.filter((r) => r.type === "pulumi:providers:kubernetes").length, 2);
  });

  it("writes access logs: artifact buckets to the region's log bucket, load balancers to it too, API stages to a log group", () => {
    for (const region of ["central", "edge-berlin"]) {
      const logs = only(plan, "aws:s3/bucket:Bucket", `support-desk-${region}-access-logs`);
      assert.equal(logs.bucketPrefix, "support-desk-logs-");
      const logBucket = "support-desk-logs-offline";
      const logging = only(plan, "aws:s3/bucketLogging:BucketLogging", `support-desk-${region}-artifacts-access-logs`);
      assert.deepEqual(
        [logging.bucket, logging.targetBucket, logging.targetPrefix],
        [`support-desk-${region}-artifacts-id`, logBucket, "s3/artifacts/"],
      );
      assert.equal(
        only(
          plan,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          `support-desk-${region}-access-logs-encryption`,
        ).rules[0].applyServerSideEncryptionByDefault.sseAlgorithm,
        "AES256",
        "ELB and S3 log delivery write only to SSE-S3 buckets",
      );
      assert.equal(
        only(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `support-desk-${region}-access-logs-expiry`).rules[0]
          .expiration.days,
        90,
      );
      const policy = JSON.parse(only(plan, "aws:s3/bucketPolicy:BucketPolicy", `support-desk-${region}-access-logs-policy`).policy);
      assert.deepEqual(
        policy.Statement.map((st: any) => [st.Sid, st.Effect, st.Principal]),
        [
          ["S3ServerAccessLogs", "Allow", { Service: "logging.s3.amazonaws.com" }],
          [
            "LoadBalancerAccessLogs",
            "Allow",
            {
              Service: "logdelivery.elasticloadbalancing.amazonaws.com",
              AWS: region === "central" ? "arn:aws:iam::156460612806:root" : "arn:aws:iam::054676820928:root",
            },
          ],
          ["TlsOnly", "Deny", "*"],
        ],
      );
      // The Wavelength region has no load balancers and no model API (Wavelength sells neither).
      if (region !== "central") continue;
      for (const lb of [`support-desk-${region}-gateway`, `support-desk-${region}-models`])
        assert.deepEqual(only(plan, "aws:lb/loadBalancer:LoadBalancer", lb).accessLogs, {
          bucket: logBucket,
          prefix: `alb/${lb}`,
          enabled: true,
        });
      const stage = only(plan, "aws:apigatewayv2/stage:Stage", `support-desk-${region}-models`);
      const group = only(plan, "aws:cloudwatch/logGroup:LogGroup", `support-desk-${region}-models-access-logs`);
      assert.deepEqual([group.name, group.retentionInDays], [`/aws/apigateway/support-desk-${region}-models`, 14]);
      assert.equal(
        stage.accessLogSettings.destinationArn,
        `arn:aws:cloudwatch:${region === "central" ? "eu-west-1" : "eu-central-1"}:123456789012:support-desk-${region}-models-access-logs`,
      );
      assert.equal(JSON.parse(stage.accessLogSettings.format).userArn, "$context.identity.userArn");
    }
  });

  it("runs a gateway in each region with backends, whose task role may call exactly the app's Function URLs and model routes", () => {
    for (const region of ["central"]) {
      const service = only(plan, "aws:ecs/service:Service", `support-desk-${region}-gateway`);
      assert.deepEqual([service.launchType, service.desiredCount], ["FARGATE", 2]);
      assert.deepEqual(only(plan, "aws:lb/loadBalancer:LoadBalancer", `support-desk-${region}-gateway`).internal, false);
      const redis = only(plan, "aws:elasticache/replicationGroup:ReplicationGroup", `support-desk-${region}-gateway-redis`);
      assert.deepEqual([redis.transitEncryptionEnabled, redis.atRestEncryptionEnabled], [true, true]);
    }
    const task = plan.resources.find((r) => r.name === "support-desk-central-gateway-task" && r.type === "aws:iam/rolePolicy:RolePolicy")!;
    assert.deepEqual(
      statements(task).map((s) => [s.Action, s.Resource]),
      [
        [
          ["lambda:InvokeFunctionUrl"],
          [
            "arn:aws:lambda:eu-west-1:123456789012:support-desk-fn-classify-central-live",
            "arn:aws:lambda:eu-west-1:123456789012:support-desk-fn-reclassify-central-live",
          ],
        ],
        [["execute-api:Invoke"], ["arn:aws:execute-api:eu-west-1:123456789012:support-desk-central-models/*/POST/models/intent-v1"]],
        // The asynchronous backlog route: send its jobs, record and read its invocations.
        [["sqs:SendMessage"], ["arn:aws:sqs:eu-west-1:123456789012:support-desk-q-reclassify-central"]],
        [
          ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
          ["arn:aws:dynamodb:eu-west-1:123456789012:support-desk-central-invocations"],
        ],
      ],
    );
    assert.deepEqual(
      only(plan, "aws:lb/loadBalancer:LoadBalancer", "support-desk-central-gateway").subnets,
      ["subnet-0a1b2c3d4e5f60013", "subnet-0a1b2c3d4e5f60014"],
      "the gateway's load balancer is in its public subnets",
    );
    assert.equal(
      byType(plan, "aws:lb/listener:Listener").filter((l) => (l.inputs as any).protocol === "HTTPS").length,
      0,
      "HTTP without a certificate",
    );
  });

  it("outputs the endpoints map with the SigV4 signing each endpoint needs", () => {
    assert.deepEqual(plan.endpoints.functions.classify, {
      central: {
        url: "https://support-desk-fn-classify-central-url.lambda-url.eu-west-1.on.aws/",
        exact: true,
        sigv4: { service: "lambda", region: "eu-west-1" },
      },
    });
    assert.deepEqual(plan.endpoints.models["intent@1"].central, {
      url: "https://support-desk-central-models.execute-api.eu-west-1.amazonaws.com/models/intent-v1",
      exact: true,
      sigv4: { service: "execute-api", region: "eu-west-1" },
    });
  });
});

describe("AWS stack config errors (typed, naming the key and the fix, before any resource)", () => {
  const networks = JSON.parse(stackConfig("aws").networks);
  const plan = (values: Record<string, unknown>) =>
    planApp(
      "examples/support-desk",
      "aws",
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    );
  const refused = (pattern: RegExp) => (e: Error) => (e as { code?: string }).code === "CL_TARGET_CONFIG" && pattern.test(e.message);

  it("asks for a gateway's public subnets and VPC range in each region with backends", async () => {
    await assert.rejects(
      plan({ networks: { ...networks, central: { ...networks.central, publicSubnetIds: undefined } } }),
      refused(/cloudloom:networks\.central\.publicSubnetIds is required: region central has backends, so it runs a gateway/),
    );
    await assert.rejects(
      plan({ networks: { ...networks, central: { ...networks.central, cidrBlock: undefined } } }),
      refused(/cloudloom:networks\.central\.cidrBlock is required/),
    );
    await assert.rejects(
      plan({ networks: { ...networks, central: { ...networks.central, cidrBlock: "10.1.0.0" } } }),
      refused(/cloudloom:networks\.central\.cidrBlock must be the VPC's IPv4 range/),
    );
  });

  it("asks for a VPC for each region that runs GPU models", async () => {
    // An empty networks setting, since an offline plan would fill an unset one with a placeholder VPC.
    await assert.rejects(plan({ networks: {} }), refused(/cloudloom:networks\.central is required: region central runs GPU models on EKS/));
  });

  it("asks for the Wavelength subnet's range of a region in a Wavelength Zone", async () => {
    const edge = { ...networks["edge-berlin"], wavelength: undefined };
    await assert.rejects(
      plan({ networks: { ...networks, "edge-berlin": edge } }),
      refused(/cloudloom:networks\.edge-berlin\.wavelength\.cidrBlock is required: .* eu-central-1-wl1-ber-wlz-1/),
    );
  });

  it("refuses cluster API CIDRs that are malformed or open the API to the internet", async () => {
    await assert.rejects(
      plan({ ...stackConfig("aws"), clusterApiCidrs: "10.0.0.0" }),
      refused(/cloudloom:clusterApiCidrs must list IPv4 CIDRs/),
    );
    await assert.rejects(
      plan({ ...stackConfig("aws"), clusterApiCidrs: ["203.0.113.0/24", "0.0.0.0/0"] }),
      refused(/cloudloom:clusterApiCidrs holds 0\.0\.0\.0\/0, which opens the EKS API to the whole internet/),
    );
  });

  it("names a malformed network field", async () => {
    await assert.rejects(
      plan({ networks: { ...networks, central: { ...networks.central, vpcId: "my-vpc" } } }),
      refused(/cloudloom:networks\.central\.vpcId must be a VPC id/),
    );
    await assert.rejects(plan({ networks: "{not json" }), refused(/cloudloom:networks is not an object/));
  });

  it("names a declared secret with no value, and the command that sets it", async () => {
    await assert.rejects(
      plan({ networks, secrets: {} }),
      refused(/declare secret crm-token.*pulumi config set --secret --path 'cloudloom:secrets.crm-token'/),
    );
    await assert.rejects(plan({ networks, secrets: "[1]" }), refused(/cloudloom:secrets must be an object/));
  });
});
