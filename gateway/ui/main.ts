/**
 * The dashboard page: draws the gateway's app graph, then reads the metrics
 * stream and writes its numbers on the graph and the charts. When the
 * gateway asks for the admin key, the page asks the user (the key stays in
 * this tab's sessionStorage and travels in a header); when the stream cannot
 * be read, the page says "disconnected", keeps the last numbers greyed out,
 * and retries with backoff.
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { fromColumns, type DashboardHistory, type DashboardSnapshot } from "../dashboard/snapshot";
import { Charts } from "./charts";
import { GraphView } from "./graph-view";
import { authHeaders, readStream, refusal } from "./stream";

const KEY_STORAGE = "cloudloom-admin-key";
const MAX_BACKOFF_MS = 10_000;

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLSpanElement>("status");
const updated = element<HTMLSpanElement>("updated");
const form = element<HTMLFormElement>("key-form");
const keyInput = element<HTMLInputElement>("admin-key");
const keyError = element<HTMLSpanElement>("key-error");
const graphUrl = document.body.dataset.graph ?? "";
const eventsUrl = document.body.dataset.events ?? "";

const graph = new GraphView(element("graph"));
const charts = new Charts(element("charts"));
let key = sessionStorage.getItem(KEY_STORAGE) ?? undefined;
let generation: string | undefined;
let drawn = false;

type State = "connecting" | "live" | "disconnected" | "locked";

function show(state: State, text: string): void {
  status.className = `status status-${state}`;
  status.textContent = text;
  document.body.dataset.state = state;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Shows the key form with why the gateway refused. */
function askForKey(message: string): void {
  show("locked", "the admin key is needed");
  keyError.textContent = key ? message : "";
  form.hidden = false;
  keyInput.focus();
}

/** Fetches and draws the graph; says whether it worked, was refused, or the gateway is out of reach. */
async function drawGraph(): Promise<"drawn" | "refused" | "lost"> {
  let response: Response;
  try {
    response = await fetch(graphUrl, { headers: authHeaders(key), cache: "no-store" });
  } catch {
    return "lost";
  }
  if (response.status === 401 || response.status === 429) {
    askForKey(await refusal(response));
    return "refused";
  }
  if (!response.ok) return "lost";
  const svg = await response.text();
  graph.draw(svg);
  document.title = `cloudloom: ${/aria-label="([^:"]+)/.exec(svg)?.[1] ?? "dashboard"}`;
  element("app-name").textContent = document.title.slice("cloudloom: ".length);
  drawn = true;
  return "drawn";
}

/** A new configuration (the gateway reloaded another spec): redraw the graph, and start the charts over (their series may differ). */
function follow(next: string): void {
  if (generation !== undefined && next !== generation) {
    void drawGraph();
    charts.reset([]);
  }
  generation = next;
}

function onEvent(name: string, data: string): void {
  if (name === "history") {
    const history = JSON.parse(data) as DashboardHistory;
    follow(history.generation);
    charts.reset(fromColumns(history.columns));
  } else if (name === "snapshot") {
    const snapshot = JSON.parse(data) as DashboardSnapshot;
    follow(snapshot.generation);
    graph.update(snapshot);
    charts.add(snapshot.point);
    updated.textContent = `updated ${new Date(snapshot.at).toLocaleTimeString()}`;
  }
}

/** Draws, then streams, retrying with backoff while the gateway is out of reach; stops to ask for the key. */
async function run(): Promise<void> {
  let backoff = 1_000;
  const lost = async (message: string) => {
    show("disconnected", `disconnected: ${message}; retrying in ${Math.round(backoff / 1000)} s`);
    await sleep(backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  };
  for (;;) {
    if (!drawn) {
      const result = await drawGraph();
      if (result === "refused") return;
      if (result === "lost") {
        await lost("the gateway did not send the app graph");
        continue;
      }
    }
    const end = await readStream(eventsUrl, key, {
      open: () => {
        backoff = 1_000;
        form.hidden = true;
        show("live", "live");
      },
      event: onEvent,
    });
    if (end.kind === "refused") {
      askForKey(end.message);
      return;
    }
    await lost(end.message);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  key = keyInput.value;
  sessionStorage.setItem(KEY_STORAGE, key);
  form.hidden = true;
  show("connecting", "connecting");
  void run();
});

show("connecting", "connecting");
void run();
