/**
 * Places the app graph with ELK's layered algorithm (elkjs): routes on the
 * left, then functions, models, and the pools, policies and regions they run
 * on. Text is set in a monospace font, so a node's size follows from its
 * longest line without measuring glyphs, and the layout (like ELK's, which is
 * seeded) is the same for the same graph on every machine.
 */
import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import type { AppGraph, GraphEdge, GraphNode, NodeKind } from "./model";

/** Text metrics of the drawing: a monospace font, sizes in px. */
export const TEXT = {
  font: "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace",
  titleSize: 13,
  lineSize: 11,
  /** Advance of one monospace glyph per px of font size (DejaVu Sans Mono: 0.602). */
  advance: 0.61,
  lineHeight: 15,
  padding: 10,
} as const;

/** The small caption naming each node's kind, top right in its box. */
export const KIND_LABEL: Record<NodeKind, string> = {
  route: "route",
  function: "function",
  model: "model",
  gpuPool: "GPU pool",
  scalingPolicy: "scaling",
  region: "region",
};

/** Font size of the kind caption. */
export const KIND_SIZE = 9;

/** A node with its box. */
export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Lines kept free under the node's text for live numbers (the dashboard's). */
  liveLines: number;
}

/** An edge with its route: a polyline from the source's box to the target's. */
export interface PlacedEdge extends GraphEdge {
  points: Array<{ x: number; y: number }>;
  /** Where the label goes, when the edge has one. */
  labelAt?: { x: number; y: number; width: number; height: number };
}

/** The placed graph. */
export interface GraphLayout {
  graph: AppGraph;
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

/** What the layout keeps free in each node for live numbers. */
export interface LayoutOptions {
  /** Lines of live numbers `node` shows. @default none */
  liveLines?: (node: GraphNode) => number;
  /** Characters a live line may take. @default 0 */
  liveWidth?: number;
}

/** Width in px of `chars` monospace characters at `size`. */
export const textWidth = (chars: number, size: number): number => Math.ceil(chars * size * TEXT.advance);

/** The static text lines of a node under its title. */
export function bodyLines(node: GraphNode): string[] {
  return node.becomes ? [...node.details, node.becomes] : node.details;
}

const round = (value: number | undefined) => Math.round((value ?? 0) * 10) / 10;

function nodeSize(node: GraphNode, liveLines: number, liveWidth: number): { width: number; height: number } {
  const lines = bodyLines(node);
  const widest = Math.max(
    textWidth(node.title.length, TEXT.titleSize) + 12 + textWidth(KIND_LABEL[node.kind].length + 1, KIND_SIZE),
    ...lines.map((line) => textWidth(line.length, TEXT.lineSize)),
    liveLines > 0 ? textWidth(liveWidth, TEXT.lineSize) : 0,
  );
  return {
    width: widest + 2 * TEXT.padding,
    height: 2 * TEXT.padding + TEXT.titleSize + 4 + (lines.length + liveLines) * TEXT.lineHeight,
  };
}

const elk = new ELK();

/** Lays out `graph`; the same graph and options always give the same layout. */
export async function layoutGraph(graph: AppGraph, options: LayoutOptions = {}): Promise<GraphLayout> {
  const liveOf = (node: GraphNode) => options.liveLines?.(node) ?? 0;
  const root: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.spacing.nodeNode": "24",
      "elk.layered.spacing.nodeNodeBetweenLayers": "64",
      "elk.spacing.edgeLabel": "4",
      "elk.padding": "[top=16,left=16,bottom=16,right=16]",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.randomSeed": "1",
    },
    children: graph.nodes.map((node) => ({ id: node.id, ...nodeSize(node, liveOf(node), options.liveWidth ?? 0) })),
    edges: graph.edges.map((edge): ElkExtendedEdge => ({
      id: edge.id,
      sources: [edge.from],
      targets: [edge.to],
      labels: edge.label ? [{ text: edge.label, width: textWidth(edge.label.length, TEXT.lineSize), height: TEXT.lineHeight }] : [],
    })),
  };
  const placed = await elk.layout(root);
  const boxes = new Map((placed.children ?? []).map((child) => [child.id, child]));
  const routes = new Map((placed.edges ?? []).map((edge) => [edge.id, edge]));
  return {
    graph,
    width: round(placed.width),
    height: round(placed.height),
    nodes: graph.nodes.map((node) => {
      const box = boxes.get(node.id)!;
      return { ...node, x: round(box.x), y: round(box.y), width: round(box.width), height: round(box.height), liveLines: liveOf(node) };
    }),
    edges: graph.edges.map((edge) => {
      const routed = routes.get(edge.id)!;
      const points = (routed.sections ?? []).flatMap((section) => [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]);
      const label = routed.labels?.[0];
      return {
        ...edge,
        points: points.map((p) => ({ x: round(p.x), y: round(p.y) })),
        ...(label ? { labelAt: { x: round(label.x), y: round(label.y), width: round(label.width), height: round(label.height) } } : {}),
      };
    }),
  };
}
