/**
 * Draws a placed app graph as one standalone SVG document: no scripts, no
 * external fonts or images, so it renders anywhere and can be committed and
 * diffed (the same layout always gives the same bytes). Nodes keep their id
 * in `data-node`, and lines reserved for live numbers are empty `text.live`
 * elements the dashboard fills in.
 */
import { KIND_LABEL, KIND_SIZE, TEXT, type GraphLayout, type PlacedEdge, type PlacedNode } from "./layout";
import type { NodeKind } from "./model";

/** Fill and stroke per node kind. */
const COLORS: Record<NodeKind, { fill: string; stroke: string }> = {
  route: { fill: "#eef4ff", stroke: "#3563c9" },
  function: { fill: "#effaf1", stroke: "#2f8a46" },
  model: { fill: "#fff6e8", stroke: "#c27c0e" },
  gpuPool: { fill: "#fdeff2", stroke: "#b8395b" },
  scalingPolicy: { fill: "#f4f0fb", stroke: "#6d4ab8" },
  region: { fill: "#f2f4f6", stroke: "#5b6673" },
};

/** Height of the caption above the graph. */
const CAPTION = 28;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `text` escaped for XML text and attribute values. */
export const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

const STYLE = `
  text { font-family: ${TEXT.font}; fill: #1d232b; }
  .title { font-size: ${TEXT.titleSize}px; font-weight: bold; }
  .kind { font-size: ${KIND_SIZE}px; fill: #5b6673; text-transform: uppercase; letter-spacing: 0.06em; }
  .line { font-size: ${TEXT.lineSize}px; }
  .becomes { font-size: ${TEXT.lineSize}px; fill: #7a3f00; }
  .live { font-size: ${TEXT.lineSize}px; fill: #0b5cad; }
  .caption { font-size: 13px; fill: #394350; }
  .edge { fill: none; stroke: #8792a0; stroke-width: 1.2; }
  .edge-serves { stroke: #3563c9; stroke-width: 1.6; }
  .edge-calls { stroke: #2f8a46; stroke-width: 1.6; }
  .edge-runs-in, .edge-scaled-by { stroke-dasharray: 4 3; }
  .edge-label { font-size: ${TEXT.lineSize}px; fill: #3563c9; }`;

function drawNode(node: PlacedNode): string {
  const { fill, stroke } = COLORS[node.kind];
  const x0 = TEXT.padding;
  let y = TEXT.padding + TEXT.titleSize;
  const parts = [
    `<rect width="${node.width}" height="${node.height}" rx="6" fill="${fill}" stroke="${stroke}" stroke-width="1.4"/>`,
    `<text class="kind" x="${node.width - TEXT.padding}" y="${TEXT.padding + 7}" text-anchor="end">${KIND_LABEL[node.kind]}</text>`,
    `<text class="title" x="${x0}" y="${y}">${escapeXml(node.title)}</text>`,
  ];
  y += 4;
  for (const line of node.details) {
    y += TEXT.lineHeight;
    parts.push(`<text class="line" x="${x0}" y="${y}">${escapeXml(line)}</text>`);
  }
  if (node.becomes) {
    y += TEXT.lineHeight;
    parts.push(`<text class="becomes" x="${x0}" y="${y}">${escapeXml(node.becomes)}</text>`);
  }
  for (let i = 0; i < node.liveLines; i++) {
    y += TEXT.lineHeight;
    parts.push(`<text class="live" data-live="${i}" x="${x0}" y="${y}"></text>`);
  }
  return `<g class="node node-${node.kind}" data-node="${escapeXml(node.id)}" transform="translate(${node.x},${node.y})">\n    ${parts.join("\n    ")}\n  </g>`;
}

function drawEdge(edge: PlacedEdge): string {
  const d = edge.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x},${p.y}`).join(" ");
  const path = `<path class="edge edge-${edge.kind}" data-edge="${escapeXml(edge.id)}" d="${d}" marker-end="url(#arrow)"/>`;
  if (!edge.label || !edge.labelAt) return path;
  const { x, y, height } = edge.labelAt;
  return `${path}\n  <text class="edge-label" x="${x}" y="${y + height - 4}">${escapeXml(edge.label)}</text>`;
}

/** The SVG document of `layout`. */
export function renderSvg(layout: GraphLayout): string {
  const width = Math.ceil(layout.width);
  const height = Math.ceil(layout.height) + CAPTION;
  const { app, target } = layout.graph;
  const caption = `${app}: ${layout.graph.nodes.length} entries${target ? `, as deployed on ${target}` : ""}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(caption)}">`,
    `<title>${escapeXml(caption)}</title>`,
    `<style>${STYLE}\n</style>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8792a0"/></marker></defs>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="caption" x="16" y="19">${escapeXml(caption)}</text>`,
    `<g transform="translate(0,${CAPTION})">`,
    `  ${layout.edges.map(drawEdge).join("\n  ")}`,
    `  ${layout.nodes.map(drawNode).join("\n  ")}`,
    `</g>`,
    `</svg>`,
    "",
  ].join("\n");
}
