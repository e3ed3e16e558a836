/**
 * The app graph on the page: the gateway's own drawing (sdk/graph, the same
 * as `cloudloom graph`), whose nodes keep empty lines for live numbers; each
 * snapshot fills them through the live-lines module the server laid them out with.
 */
import type { NodeKind } from "../../sdk/graph/model";
import { liveLines } from "../dashboard/live-lines";
import type { DashboardSnapshot } from "../dashboard/snapshot";

/** A drawn node and its live lines. */
interface LiveNode {
  kind: NodeKind;
  entry: string;
  lines: SVGTextElement[];
}

/** The graph in `container`, once drawn. */
export class GraphView {
  private nodes: LiveNode[] = [];

  constructor(private readonly container: HTMLElement) {}

  /** Replaces the drawing with `svg` (the gateway's graph.svg). */
  draw(svg: string): void {
    const parsed = new DOMParser().parseFromString(svg, "image/svg+xml");
    const root = parsed.documentElement;
    if (root.nodeName !== "svg") throw new Error("the gateway's graph is not an SVG document");
    const drawing = document.importNode(root, true);
    this.container.replaceChildren(drawing);
    this.nodes = [...drawing.querySelectorAll<SVGGElement>("g[data-node]")].map((group) => {
      const id = group.dataset.node ?? "";
      const colon = id.indexOf(":");
      return {
        kind: id.slice(0, colon) as NodeKind,
        entry: id.slice(colon + 1),
        lines: [...group.querySelectorAll<SVGTextElement>("text.live")],
      };
    });
  }

  /** Writes `snapshot`'s numbers under every node. */
  update(snapshot: DashboardSnapshot): void {
    for (const node of this.nodes) {
      const text = liveLines(node, snapshot);
      node.lines.forEach((line, i) => {
        line.textContent = text[i] ?? "";
      });
    }
  }
}
