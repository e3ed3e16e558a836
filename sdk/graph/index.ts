/**
 * The app graph, shared by `cloudloom graph` and the gateway's dashboard:
 * the model (built from Spec v1 alone), its layout (elkjs) and its SVG drawing.
 */
export {
  appGraph,
  nodeId,
  type AppGraph,
  type EdgeKind,
  type EntryNotes,
  type GraphEdge,
  type GraphNode,
  type GraphSection,
  type NodeKind,
} from "./model";
export { layoutGraph, bodyLines, textWidth, TEXT, type GraphLayout, type LayoutOptions, type PlacedEdge, type PlacedNode } from "./layout";
export { renderSvg, escapeXml } from "./svg";
