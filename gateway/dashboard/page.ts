/**
 * The dashboard's HTML: a shell with no data in it (the graph and the
 * numbers arrive from the gated endpoints), the bundled script and styles,
 * and headers that let the page load nothing but its own files.
 */
import { INTERNAL_PREFIX } from "../../runtime/contract";

/** Where the dashboard lives on every gateway. */
export const DASHBOARD_PATH = `${INTERNAL_PREFIX}/ui`;

/** The dashboard's paths. */
export const DASHBOARD_PATHS = {
  page: DASHBOARD_PATH,
  assets: `${DASHBOARD_PATH}/assets`,
  graph: `${DASHBOARD_PATH}/graph.svg`,
  events: `${DASHBOARD_PATH}/events`,
} as const;

/**
 * Headers of every dashboard response: scripts and styles from the gateway
 * only (inline styles allowed: uPlot and the graph's SVG set them), no
 * framing, no referrer, no sniffing.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** The page. The favicon is empty inline, so the browser asks the gateway for nothing else. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cloudloom dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DASHBOARD_PATHS.assets}/dashboard.css">
</head>
<body data-graph="${DASHBOARD_PATHS.graph}" data-events="${DASHBOARD_PATHS.events}">
<header>
  <h1>cloudloom <span id="app-name"></span></h1>
  <span id="status" class="status status-connecting" role="status">connecting</span>
  <span id="updated" class="updated"></span>
</header>
<form id="key-form" class="key-form" hidden>
  <label>Admin key <input id="admin-key" type="password" autocomplete="off" required></label>
  <button type="submit">Open</button>
  <span id="key-error" class="key-error" role="alert"></span>
</form>
<main>
  <section id="graph" class="graph" aria-label="app graph"></section>
  <p class="legend">Rates: last 10 s. Totals, ratios and latency quantiles: last 15 minutes. ej: ejections, fo: failovers.</p>
  <section id="charts" class="charts" aria-label="last 15 minutes"></section>
</main>
<script src="${DASHBOARD_PATHS.assets}/dashboard.js"></script>
</body>
</html>
`;
