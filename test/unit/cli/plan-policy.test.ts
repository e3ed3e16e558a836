import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { runCli as run } from "../../support/cli";

describe("cloudloom plan", () => {
  it("prints the resource tree and says plainly that the plan is offline", async () => {
    const { code, out, err } = await run("plan", "examples/support-desk", "--target", "kubernetes");
    assert.equal(code, 0);
    assert.match(
      out,
      /^Offline plan of "support-desk" on kubernetes: Pulumi's mock runtime, no cloud, no credentials\. Provider-computed defaults are not applied\./,
    );
    assert.match(out, /└─ cloudloom:kubernetes:App support-desk\n/);
    assert.match(out, / {3}├─ cloudloom:kubernetes:Model support-desk-intent-v1-central\n/);
    assert.match(out, /kubernetes:apps\/v1:Deployment support-desk-intent-v1-central {2}image=ghcr\.io\/cloudloom\/runtime:0\.1\.0 gpu=1/);
    assert.match(out, /45 resources in 9 components/);
    // The alerts it would create, one per rule, then what it cannot alert on (nothing, on Kubernetes).
    assert.match(
      out,
      /\nAlerts \(10\):\n {2}page {3}SupportDeskRoutePostV1ClassifyErrorRatePage {2}routes\.POST \/v1\/classify\.objectives\.0\n {9}when sum\(rate\(http_server_request_duration_seconds_count\{/,
    );
    assert.doesNotMatch(out, /cannot alert on/);
    assert.match(err, /planning examples\/support-desk on kubernetes\.\.\./);
  });

  it("shows the key inputs of cloud resources too (AWS, Alibaba Cloud)", async () => {
    const aws = await run("plan", "examples/support-desk", "--target", "aws");
    assert.equal(aws.code, 0);
    assert.match(aws.out, /aws:lambda\/function:Function support-desk-fn-classify-central {2}runtime=nodejs24\.x memory=512 timeout=10\n/);
    assert.match(aws.out, /aws:lambda\/functionUrl:FunctionUrl support-desk-fn-classify-central-url {2}auth=AWS_IAM\n/);
    assert.match(
      aws.out,
      /aws:eks\/nodeGroup:NodeGroup support-desk-inference-t4-central {2}instances=g4dn\.xlarge min=0 max=4 capacity=ON_DEMAND\n/,
    );
    assert.match(aws.out, /aws:ec2\/launchTemplate:LaunchTemplate support-desk-inference-t4-edge-berlin {2}instance=g4dn\.2xlarge\n/);
    assert.match(
      aws.out,
      /Where each entry lands:\n {2}central:\n(.*\n)* {2}edge-berlin:\n {4}function classify -> runtime container on EKS self-managed nodes in eu-central-1-wl1-ber-wlz-1 \(t3\.xlarge\) \(Wavelength has no Lambda\)\n/,
    );
    const alicloud = await run("plan", "examples/support-desk", "--target", "alicloud");
    assert.equal(alicloud.code, 0);
    assert.match(
      alicloud.out,
      /alicloud:fc\/v3Function:V3Function support-desk-intent-v1-central {2}runtime=custom-container memory=16384 cpu=8 gpu=fc\.gpu\.tesla\.1\n/,
    );
    assert.match(alicloud.out, /alicloud:fc\/v3Alias:V3Alias support-desk-fn-classify-central {2}alias=live version=1\n/);
  });

  it("lists the alarms each cloud would create, and the objectives it cannot alert on with the reason", async () => {
    const aws = await run("plan", "examples/support-desk", "--target", "aws");
    assert.match(aws.out, /\nAlerts \(7\):\n/);
    assert.match(
      aws.out,
      / {2}page {3}support-desk-route-post-v1-classify-error-rate-page-fn-classify-central {2}routes\.POST \/v1\/classify\.objectives\.0\n {9}when errors \/ requests \[Sum\(Url5xxCount\), Sum\(UrlRequestCount\)\] > 0\.02 over 300 s\n/,
    );
    assert.match(
      aws.out,
      /\nObjectives aws cannot alert on \(12\):\n {2}routes\.POST \/v1\/classify\.objectives\.0 \(support-desk-route-post-v1-classify-error-rate-page\): in edge-berlin it runs as a runtime container on the edge zone's nodes/,
    );
    const alicloud = await run("plan", "examples/support-desk", "--target", "alicloud", "--json");
    const plan = JSON.parse(alicloud.out);
    assert.equal(plan.alerts.length, 11);
    assert.deepEqual(plan.alerts[0], {
      name: "support-desk-route-post-v1-classify-error-rate-page-fn-classify-central",
      severity: "page",
      objective: "routes.POST /v1/classify.objectives.0",
      condition: "Average(FunctionFunctionErrorsRate) > 2, 5 periods of 60 s in a row",
    });
    assert.deepEqual(
      plan.unobserved.map((u: any) => u.objective),
      ["functions.classify.objectives.0", "models.intent@1.objectives.0", "models.intent@1.objectives.1", "models.intent@1.objectives.2"],
    );
  });

  it("renders the same JSON plan on every run", async () => {
    const first = await run("plan", "examples/support-desk", "--target", "kubernetes", "--json");
    const second = await run("plan", "examples/support-desk", "--target", "kubernetes", "--json");
    assert.equal(first.out, second.out);
    const plan = JSON.parse(first.out);
    assert.equal(plan.offline, true);
    assert.equal(plan.resources.length, 54);
    assert.equal(plan.alerts.length, 10);
  });

  it("writes the Kubernetes manifests with --out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloudloom-out-"));
    assert.equal((await run("plan", "examples/support-desk", "--target", "kubernetes", "--out", dir)).code, 0);
    const yaml = readFileSync(join(dir, "support-desk.yaml"), "utf8");
    assert.equal(yaml.split("---\n").length, 45);
    assert.match(yaml, /kind: PrometheusRule/);
  });

  it("exits 1 for an app with problems, 2 for an unknown target or a missing file", async () => {
    const bad = await run("plan", "test/fixtures/bad-app.ts", "--target", "kubernetes");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /CL_MIN_GT_MAX/);
    const unknown = await run("plan", "examples/support-desk", "--target", "gcp");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /choose one of: kubernetes/);
    assert.equal((await run("plan", "examples/nope", "--target", "kubernetes")).code, 2);
    assert.equal((await run("plan", "--help")).code, 0);
  });
});

describe("cloudloom policy", () => {
  it("passes the example app on every target", async () => {
    const { code, out } = await run("policy", "examples/support-desk", "--target", "all");
    assert.equal(code, 0);
    assert.equal(out, "no policy violations (26 policies, targets: kubernetes, aws, alicloud)\n");
  });

  it("groups violations by policy and exits 1 on a mandatory one", async () => {
    const { code, out } = await run("policy", "test/fixtures/bad-policy-app.ts", "--target", "kubernetes");
    assert.equal(code, 1);
    assert.match(
      out,
      /cloudloom-gpu-cost-guard \(mandatory, 2\)\n {2}kubernetes:cloudloom:kubernetes:App::bad-policy\n {4}GPU pool big may grow to 64 nodes/,
    );
    assert.match(out, /cloudloom-public-routes-rate-limited \(mandatory, 1\)/);
    assert.match(out, /cloudloom-scale-to-zero-latency \(mandatory, 1\)/);
  });

  it("writes SARIF 2.1.0 that validates against the schema", async () => {
    const { code, out } = await run("policy", "test/fixtures/bad-policy-app.ts", "--target", "kubernetes", "--format", "sarif");
    assert.equal(code, 1);
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(ajv);
    const validateSarif = ajv.compile<any>(require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"));
    const sarif: any = JSON.parse(out);
    assert.ok(validateSarif(sarif), JSON.stringify(validateSarif.errors));
    assert.equal(sarif.runs[0].results[0].level, "error");
    assert.equal(sarif.runs[0].tool.driver.rules.length, 26);
  });

  it("points SARIF results at the app file and the line of the declaration at fault", async () => {
    const { code, out } = await run("policy", "test/fixtures/bad-policy-app.ts", "--target", "kubernetes", "--format", "sarif");
    assert.equal(code, 1);
    const at = (JSON.parse(out).runs[0].results as any[]).map((r) => [
      r.ruleId,
      r.locations[0].physicalLocation.artifactLocation.uri,
      r.locations[0].physicalLocation.region?.startLine,
    ]);
    // bad-policy-app.ts: the GPU pool on line 15, the model on 17, the route on 29.
    assert.deepEqual(at, [
      ["cloudloom-gpu-cost-guard", "test/fixtures/bad-policy-app.ts", 15],
      ["cloudloom-gpu-cost-guard", "test/fixtures/bad-policy-app.ts", 15],
      ["cloudloom-public-routes-rate-limited", "test/fixtures/bad-policy-app.ts", 29],
      ["cloudloom-scale-to-zero-latency", "test/fixtures/bad-policy-app.ts", 17],
    ]);
  });

  it("reports the app's spec problems as SARIF results too, at their declarations, and exits 1", async () => {
    const { code, out, err } = await run("policy", "test/fixtures/bad-app.ts", "--target", "kubernetes", "--format", "sarif");
    assert.equal(code, 1);
    const sarif: any = JSON.parse(out);
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(ajv);
    const validateSarif = ajv.compile<any>(require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"));
    assert.ok(validateSarif(sarif), JSON.stringify(validateSarif.errors));
    const minGtMax = sarif.runs[0].results.find((r: any) => r.ruleId === "CL_MIN_GT_MAX");
    assert.ok(minGtMax, out);
    assert.equal(minGtMax.level, "error");
    assert.deepEqual(minGtMax.locations[0].physicalLocation, {
      artifactLocation: { uri: "test/fixtures/bad-app.ts" },
      region: { startLine: 6 },
    });
    assert.ok(sarif.runs[0].tool.driver.rules.some((r: any) => r.id === "CL_MIN_GT_MAX"));
    assert.match(err, /CL_MIN_GT_MAX/);
  });

  it("takes a list of targets (comma-separated or repeated) and --stack-config, and shows plan progress", async () => {
    const listed = await run("policy", "examples/support-desk", "--target", "kubernetes,aws");
    assert.equal(listed.code, 0, listed.err);
    assert.equal(listed.out, "no policy violations (26 policies, targets: kubernetes, aws)\n");
    assert.match(listed.err, /planning examples\/support-desk on kubernetes: \d+ resources, done in/);
    assert.match(listed.err, /planning examples\/support-desk on aws: \d+ resources, done in/);
    const dir = mkdtempSync(join(tmpdir(), "cloudloom-stack-"));
    writeFileSync(join(dir, "k8s.yaml"), readFileSync("Pulumi.dev-kubernetes.yaml"));
    const configured = await run(
      "policy",
      "examples/support-desk",
      "--target",
      "kubernetes",
      "--target",
      "aws",
      "--stack-config",
      `kubernetes=${join(dir, "k8s.yaml")}`,
    );
    assert.equal(configured.code, 0, configured.err);
    assert.equal((await run("policy", "examples/support-desk", "--target", "kubernetes", "--stack-config", join(dir, "k8s.yaml"))).code, 0);
    const missing = await run("policy", "examples/support-desk", "--target", "kubernetes", "--stack-config", join(dir, "nope.yaml"));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--stack-config .*nope\.yaml does not exist/);
    const other = await run("policy", "examples/support-desk", "--target", "kubernetes", "--stack-config", `aws=${join(dir, "k8s.yaml")}`);
    assert.equal(other.code, 2);
    assert.match(other.err, /aws is not one of the targets \(kubernetes\)/);
  });

  it("refuses a production stack whose route has no objective (--policy-config), and passes it otherwise", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloudloom-prod-"));
    const config = join(dir, "production.json");
    writeFileSync(config, JSON.stringify({ "cloudloom-objectives-on-routes": { production: true } }));
    const refused = await run("policy", "test/fixtures/bad-policy-app.ts", "--target", "kubernetes", "--policy-config", config);
    assert.equal(refused.code, 1);
    assert.match(
      refused.out,
      /cloudloom-objectives-on-routes \(mandatory, 1\)\n {2}kubernetes:cloudloom:kubernetes:App::bad-policy\n {4}route POST \/rank has no objective/,
    );
    const staging = await run("policy", "test/fixtures/bad-policy-app.ts", "--target", "kubernetes");
    assert.doesNotMatch(staging.out, /cloudloom-objectives-on-routes/);
    const example = await run("policy", "examples/support-desk", "--target", "all", "--policy-config", config);
    assert.equal(example.code, 0, example.out);
  });

  it("refuses an unknown format or target with exit 2", async () => {
    assert.equal((await run("policy", "examples/support-desk", "--target", "kubernetes", "--format", "xml")).code, 2);
    assert.equal((await run("policy", "examples/support-desk", "--target", "azure")).code, 2);
  });
});

describe("cloudloom gateway config", () => {
  it("turns stack outputs into the gateway's endpoints file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloudloom-gw-"));
    const endpoints = { functions: { classify: { central: "http://classify.svc" } }, models: {} };
    writeFileSync(join(dir, "out.json"), JSON.stringify({ endpoints }));
    assert.equal((await run("gateway", "config", "--stack-output", join(dir, "out.json"), "--out", join(dir, "endpoints.json"))).code, 0);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "endpoints.json"), "utf8")), endpoints);
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ endpoints: { functions: { f: { central: "not a url" } }, models: {} } }));
    const bad = await run("gateway", "config", "--stack-output", join(dir, "bad.json"));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /endpoints\.functions\.f\.central: Invalid url/);
  });
});
