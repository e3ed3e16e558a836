import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import example from "../../examples/support-desk/app";
import { cleanEnv, Serve } from "../support/serve";
import { asyncEntries } from "../../sdk";

/**
 * The example's spec and an endpoints file pointing every entry at `endpoint`,
 * its asynchronous entries queued by Function Compute behind that endpoint
 * (a queue that opens no connection until it is used).
 */
function remoteFiles(endpoint: unknown = "http://127.0.0.1:9"): { dir: string; spec: string; endpoints: string } {
  const dir = mkdtempSync(join(tmpdir(), "cloudloom-cli-serve-"));
  const spec = example.toSpec();
  const byRegion = (regions: string[]) => Object.fromEntries(regions.map((region) => [region, endpoint]));
  const endpoints = {
    functions: Object.fromEntries(Object.entries(spec.functions).map(([name, fn]) => [name, byRegion(fn.regions)])),
    models: Object.fromEntries(Object.entries(spec.models).map(([key, model]) => [key, byRegion(model.regions)])),
    queues: Object.fromEntries(
      [...asyncEntries(spec).values()].map((entry) => [
        `${entry.kind}:${entry.name}`,
        { kind: "fc", api: "127.0.0.1:9", functionName: `support-desk-fn-${entry.name}-central`, qualifier: "live" },
      ]),
    ),
  };
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
  writeFileSync(join(dir, "endpoints.json"), JSON.stringify(endpoints));
  return { dir, spec: join(dir, "spec.json"), endpoints: join(dir, "endpoints.json") };
}

/** The one line a failed start printed: no stack trace, no second line. */
function oneLine(err: string): string {
  const lines = err.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${err}`);
  assert.doesNotMatch(err, /^\s+at /m, "no stack trace");
  return lines[0];
}

async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

describe("cloudloom serve: failures that explain themselves (child processes, real sockets)", function () {
  // Each case starts a fresh node process that loads the runtime: seconds on a loaded 2-core machine.
  this.timeout(120_000);
  const files = remoteFiles();

  it("a port in use: one line naming the port, exit 2 (gateway of a deployed stack)", async () => {
    const { server, port } = await occupiedPort();
    try {
      const serve = new Serve(
        ["--spec", files.spec, "--endpoints", files.endpoints, "--port", String(port)],
        // Keys and a metrics token, so no startup warning precedes the one line.
        cleanEnv({ CLOUDLOOM_API_KEYS: "k-123456", CLOUDLOOM_METRICS_TOKEN: "metrics-token-0123456789" }),
      );
      assert.equal(await serve.exited, 2);
      assert.match(oneLine(serve.err), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use; .*--port`));
    } finally {
      server.close();
    }
  });

  it("a port in use: one line naming the port, exit 2 (local target)", async () => {
    const { server, port } = await occupiedPort();
    try {
      const serve = new Serve(["examples/support-desk", "--port", String(port)]);
      assert.equal(await serve.exited, 2);
      assert.match(oneLine(serve.err), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      server.close();
    }
  });

  it("a config file that is not JSON, or not valid settings: one line naming the file, exit 2", async () => {
    writeFileSync(join(files.dir, "broken.json"), '{ "limits": ');
    const broken = new Serve([
      "--spec",
      files.spec,
      "--endpoints",
      files.endpoints,
      "--config",
      join(files.dir, "broken.json"),
      "--port",
      "0",
    ]);
    assert.equal(await broken.exited, 2);
    assert.match(oneLine(broken.err), /^config file .*broken\.json cannot be read as JSON: /);

    writeFileSync(join(files.dir, "invalid.json"), JSON.stringify({ limits: { bodyBytes: "lots" }, trustProxyHops: 1 }));
    const invalid = new Serve([
      "--spec",
      files.spec,
      "--endpoints",
      files.endpoints,
      "--config",
      join(files.dir, "invalid.json"),
      "--port",
      "0",
    ]);
    assert.equal(await invalid.exited, 2);
    assert.match(oneLine(invalid.err), /^config file .*invalid\.json is not valid: .*limits\.bodyBytes: /);

    const missing = new Serve([
      "--spec",
      files.spec,
      "--endpoints",
      files.endpoints,
      "--config",
      join(files.dir, "nope.json"),
      "--port",
      "0",
    ]);
    assert.equal(await missing.exited, 2);
    assert.match(oneLine(missing.err), /^config file .*nope\.json cannot be read as JSON: ENOENT/);
  });

  it("a missing key: one line naming the variable to set, exit 2", async () => {
    const jwt = remoteFiles({ url: "https://fc.example.com", jwt: { issuer: "cloudloom", audience: "fc" } });
    const gateway = new Serve(
      ["--spec", jwt.spec, "--endpoints", jwt.endpoints, "--port", "0"],
      cleanEnv({ CLOUDLOOM_API_KEYS: "k-123456" }),
    );
    assert.equal(await gateway.exited, 2);
    assert.match(oneLine(gateway.err), /needs a JWT: set CLOUDLOOM_JWT_PRIVATE_KEY to the PEM/);

    const pod = new Serve(
      ["--spec", jwt.spec, "--only", "model:intent@1", "--root", example.root, "--port", "0"],
      cleanEnv({ CLOUDLOOM_JWT_JWKS: '{"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]}' }),
    );
    assert.equal(await pod.exited, 2);
    assert.match(oneLine(pod.err), /CLOUDLOOM_JWT_(ISSUER|AUDIENCE)/);
  });

  it("warns at startup when api-key routes have no key to accept, then survives SIGHUP by reloading", async () => {
    const serve = new Serve(["--spec", files.spec, "--endpoints", files.endpoints, "--port", "0"]);
    try {
      const base = await serve.started();
      assert.match(
        serve.err,
        /warning: no API keys are configured, so the 3 api-key route\(s\) \(POST \/v1\/classify, POST \/v1\/models\/intent, POST \/v1\/tickets\/reclassify\) will answer 401 to every request; set CLOUDLOOM_API_KEYS/,
      );
      serve.child.kill("SIGHUP");
      await serve.printed(/"msg":"configuration reloaded"/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200, "still serving after SIGHUP");
      serve.child.kill("SIGHUP");
      await serve.printed(/"msg":"configuration reloaded"[\s\S]*"msg":"configuration reloaded"/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });

  it("warns at startup when no metrics token (nor admin key) would let Prometheus and KEDA read /metrics", async () => {
    const serve = new Serve(
      ["--spec", files.spec, "--endpoints", files.endpoints, "--port", "0"],
      cleanEnv({ CLOUDLOOM_API_KEYS: "k-123456" }),
    );
    try {
      const base = await serve.started();
      assert.match(
        serve.err,
        /warning: no metrics token is configured, so \/metrics and \/metrics\/demand will answer 401 to every request .*; set CLOUDLOOM_METRICS_TOKEN/,
      );
      assert.equal((await fetch(`${base}/metrics`)).status, 401, "in front of remote endpoints, never open");
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });

  it("does not warn when keys and the metrics token are configured, and serves /metrics to that token", async () => {
    const token = "metrics-token-0123456789";
    const serve = new Serve(
      ["--spec", files.spec, "--endpoints", files.endpoints, "--port", "0"],
      cleanEnv({ CLOUDLOOM_API_KEYS: "k-123456", CLOUDLOOM_METRICS_TOKEN: token }),
    );
    try {
      const base = await serve.started();
      assert.doesNotMatch(serve.err, /warning/);
      assert.equal((await fetch(`${base}/metrics`)).status, 401);
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });

  it("survives SIGHUP on the local target, logging that it has nothing to reload", async () => {
    const serve = new Serve(["examples/support-desk", "--port", "0"]);
    try {
      const base = await serve.started();
      serve.child.kill("SIGHUP");
      await serve.printed(/SIGHUP: the local target has nothing to reload/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200, "still serving after SIGHUP");
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });

  it("prints the dashboard's URL next to the routes' curl lines (npm start), and both answer", async () => {
    const serve = new Serve(["examples/support-desk", "--port", "0"]);
    try {
      await serve.started();
      await serve.printed(/Press Ctrl-C to stop/);
      const page = /Dashboard: (http:\/\/[\d.]+:\d+\/_cloudloom\/ui) /.exec(serve.out)?.[1];
      assert.ok(page, serve.out);
      assert.ok(serve.out.indexOf("curl -s -X POST") < serve.out.indexOf("Dashboard:"), "after the routes");
      assert.match((await fetch(page)).headers.get("content-type")!, /^text\/html/);
      const events = /curl -sN (\S+\/_cloudloom\/ui\/events)/.exec(serve.out)?.[1];
      const stream = await fetch(events!);
      assert.equal(stream.status, 200, "open from this machine");
      await stream.body!.cancel();
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });

  it("survives SIGHUP as a pod, logging that it has nothing to reload", async () => {
    const serve = new Serve(["--spec", files.spec, "--only", "model:intent@1", "--root", example.root, "--port", "0"]);
    try {
      const base = await serve.started();
      serve.child.kill("SIGHUP");
      await serve.printed(/SIGHUP: a pod has nothing to reload/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200, "still serving after SIGHUP");
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });
});
