import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describeTarget } from "../../../providers/registry";
import { App } from "../../../sdk";
import { appGraph, escapeXml, layoutGraph, renderSvg, type AppGraph } from "../../../sdk/graph";
import { loadApp } from "../../../sdk/load-app";

const example = () => loadApp("examples/support-desk").toDraft();
const ids = (graph: AppGraph) => graph.nodes.map((node) => node.id);
const edges = (graph: AppGraph) =>
  graph.edges.map((edge) => `${edge.from} -${edge.kind}-> ${edge.to}${edge.label ? ` (${edge.label})` : ""}`);

describe("the app graph (sdk/graph)", () => {
  it("has a node for every entry of the spec, section by section, in name order", () => {
    assert.deepEqual(ids(appGraph(example())), [
      "route:POST /v1/classify",
      "route:POST /v1/models/intent",
      "route:POST /v1/tickets/reclassify",
      "function:classify",
      "function:reclassify",
      "model:intent@1",
      "gpuPool:inference-t4",
      "scalingPolicy:backlog",
      "scalingPolicy:bursty",
      "scalingPolicy:interactive",
      "region:central",
      "region:edge-berlin",
    ]);
  });

  it("connects routes to what they serve, functions to the models they call, and entries to their regions, pool and policy", () => {
    assert.deepEqual(edges(appGraph(example())), [
      "route:POST /v1/classify -serves-> function:classify",
      "route:POST /v1/models/intent -serves-> model:intent@1 (100 %)",
      "route:POST /v1/tickets/reclassify -serves-> function:reclassify",
      "function:classify -calls-> model:intent@1",
      "function:classify -runs-in-> region:central",
      "function:classify -runs-in-> region:edge-berlin",
      "function:classify -scaled-by-> scalingPolicy:interactive",
      "function:reclassify -calls-> model:intent@1",
      "function:reclassify -runs-in-> region:central",
      "function:reclassify -scaled-by-> scalingPolicy:backlog",
      "model:intent@1 -runs-on-> gpuPool:inference-t4",
      "model:intent@1 -runs-in-> region:central",
      "model:intent@1 -runs-in-> region:edge-berlin",
      "model:intent@1 -scaled-by-> scalingPolicy:bursty",
      "gpuPool:inference-t4 -runs-in-> region:central",
      "gpuPool:inference-t4 -runs-in-> region:edge-berlin",
    ]);
  });

  it("labels each model version a route splits with its weight", () => {
    const app = new App("split");
    const central = app.region("central", { kind: "central", placement: {} });
    const signature = {
      inputs: { x: { type: "float32" as const, shape: [-1, 1] } },
      outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
    };
    const artifact = { path: "m.onnx", sha256: "a".repeat(64) };
    const v1 = app.model("m", { version: "1", artifact, signature, regions: [central] });
    const v2 = app.model("m", { version: "2", artifact, signature, regions: [central] });
    app.route("POST /m", {
      target: {
        strategy: "canary",
        versions: [
          { model: v1, weight: 90 },
          { model: v2, weight: 10 },
        ],
      },
    });
    const graph = appGraph(app.toSpec({ root: undefined }));
    assert.deepEqual(
      graph.edges.filter((edge) => edge.kind === "serves").map((edge) => [edge.to, edge.label]),
      [
        ["model:m@1", "90 %"],
        ["model:m@2", "10 %"],
      ],
    );
    assert.ok(graph.nodes.find((node) => node.id === "route:POST /m")!.details.includes("canary"));
  });

  it("says what each entry becomes on a target, from the provider's description", () => {
    const spec = example();
    const becomes = (target: "aws" | "alicloud" | "kubernetes") =>
      Object.fromEntries(appGraph(spec, describeTarget(target).becomes!(spec), target).nodes.map((node) => [node.id, node.becomes]));
    // classify and intent@1 run in central and in edge-berlin, a Wavelength zone: no Lambda there, and its own GPU type.
    assert.equal(becomes("aws")["function:classify"], "Lambda + Function URL ×1 region + runtime container on EKS edge nodes ×1 region");
    assert.equal(becomes("aws")["model:intent@1"], "EKS GPU pods on g4dn.xlarge ×1 region + EKS GPU pods on g4dn.2xlarge ×1 region");
    assert.equal(
      becomes("aws")["gpuPool:inference-t4"],
      "EKS node group, g4dn.xlarge on-demand ×1 region + EKS self-managed nodes, g4dn.2xlarge on-demand ×1 region",
    );
    assert.equal(becomes("aws")["region:edge-berlin"], "eu-central-1, Wavelength zone eu-central-1-wl1-ber-wlz-1");
    assert.equal(becomes("alicloud")["model:intent@1"], "FC GPU function, fc.gpu.tesla.1 ×2 regions");
    assert.equal(becomes("alicloud")["gpuPool:inference-t4"], "FC gpuConfig fc.gpu.tesla.1, 16 GB");
    assert.equal(becomes("kubernetes")["scalingPolicy:interactive"], "KEDA ScaledObject + 1 cron trigger(s)");
    assert.equal(becomes("kubernetes")["scalingPolicy:bursty"], "KEDA ScaledObject");
    assert.equal(becomes("aws")["route:POST /v1/classify"], undefined, "routes are the gateway's: no resource of their own");
  });

  it("draws the same bytes for the same spec, and the committed example graph is current", async () => {
    const spec = example();
    const draw = async () => renderSvg(await layoutGraph(appGraph(spec, describeTarget("aws").becomes!(spec), "aws")));
    const first = await draw();
    assert.equal(await draw(), first);
    assert.equal(
      readFileSync("docs/app-graph.svg", "utf8"),
      first,
      "regenerate it: cloudloom graph examples/support-desk --target aws --out docs/app-graph.svg",
    );
  });

  it("places every node inside the drawing, apart from every other node", async () => {
    const layout = await layoutGraph(appGraph(example()));
    for (const node of layout.nodes) {
      assert.ok(node.x >= 0 && node.y >= 0 && node.x + node.width <= layout.width && node.y + node.height <= layout.height, node.id);
      for (const other of layout.nodes)
        if (other !== node)
          assert.ok(
            node.x + node.width <= other.x ||
              other.x + other.width <= node.x ||
              node.y + node.height <= other.y ||
              other.y + other.height <= node.y,
            `${node.id} overlaps ${other.id}`,
          );
    }
    for (const edge of layout.edges) assert.ok(edge.points.length >= 2, edge.id);
  });

  it("keeps room for live lines when asked, and leaves them empty for the dashboard to fill", async () => {
    const plain = await layoutGraph(appGraph(example()));
    const live = await layoutGraph(appGraph(example()), { liveLines: (node) => (node.kind === "route" ? 3 : 0), liveWidth: 40 });
    const height = (layout: typeof plain, id: string) => layout.nodes.find((node) => node.id === id)!.height;
    assert.equal(height(live, "route:POST /v1/classify") - height(plain, "route:POST /v1/classify"), 45);
    assert.equal(height(live, "region:central"), height(plain, "region:central"));
    const svg = renderSvg(live);
    assert.equal(svg.match(/<text class="live" data-live="\d"[^>]*><\/text>/g)?.length, 9, "three lines for each of the three routes");
  });

  it("escapes every name it draws, so a spec cannot inject markup", () => {
    assert.equal(escapeXml(`<script>alert("x") & 'y'</script>`), "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;");
    const spec = example();
    spec.functions.classify.handler.module = `</text><script>alert(1)</script>`;
    return layoutGraph(appGraph(spec)).then((layout) => {
      const svg = renderSvg(layout);
      assert.ok(!svg.includes("<script>"));
      assert.ok(svg.includes("&lt;/text&gt;&lt;script&gt;"));
    });
  });
});
