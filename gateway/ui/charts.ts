/**
 * Small uPlot charts of the last fifteen minutes: requests per second, p99
 * latency and 5xx per second per route, and each model's queue depth.
 */
import uPlot from "uplot";
import { WINDOW_SECONDS, type SeriesPoint } from "../dashboard/snapshot";

/** One chart: its title, and the values of a point it draws, by series name. */
interface ChartSpec {
  title: string;
  values: (point: SeriesPoint) => Record<string, number | null>;
}

const CHARTS: ChartSpec[] = [
  { title: "requests / s", values: (p) => p.rps },
  { title: "p99 latency (ms)", values: (p) => p.p99Ms },
  { title: "5xx / s", values: (p) => p.errorsPerSecond },
  { title: "model queue depth", values: (p) => p.queueDepth },
];

const COLORS = ["#3563c9", "#c27c0e", "#2f8a46", "#b8395b", "#6d4ab8", "#5b6673"];

/** The charts in `container`, fed one point per snapshot. */
export class Charts {
  private points: SeriesPoint[] = [];
  private plots: Array<{ chart: ChartSpec; names: string[]; plot: uPlot }> = [];

  constructor(private readonly container: HTMLElement) {}

  /** Starts over from `points` (the stream's history). */
  reset(points: SeriesPoint[]): void {
    this.points = [...points];
    for (const { plot } of this.plots) plot.destroy();
    this.plots = [];
    this.container.replaceChildren();
    this.redraw();
  }

  /** Adds a point, dropping those older than the window. */
  add(point: SeriesPoint): void {
    this.points.push(point);
    const oldest = point.t - WINDOW_SECONDS * 1000;
    while (this.points.length > 0 && this.points[0].t < oldest) this.points.shift();
    this.redraw();
  }

  private redraw(): void {
    const latest = this.points[this.points.length - 1];
    if (!latest) return;
    if (this.plots.length === 0) this.create(latest);
    const xs = this.points.map((p) => p.t / 1000);
    for (const { chart, names, plot } of this.plots)
      plot.setData([xs, ...names.map((name) => this.points.map((p) => chart.values(p)[name] ?? null))]);
  }

  private create(latest: SeriesPoint): void {
    for (const chart of CHARTS) {
      const names = Object.keys(chart.values(latest)).sort();
      const element = document.createElement("div");
      element.className = "chart";
      this.container.append(element);
      const plot = new uPlot(
        {
          title: chart.title,
          width: 340,
          height: 160,
          scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max ?? 0, min ?? 0)] } },
          series: [{}, ...names.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }))],
          legend: { show: true },
        },
        [[], ...names.map(() => [])],
        element,
      );
      this.plots.push({ chart, names, plot });
    }
  }
}
