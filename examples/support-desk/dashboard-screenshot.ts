/**
 * Takes docs/dashboard.png: serves this app on the local target, sends it a
 * minute of mixed traffic (repeated messages hit the cache, some clients are
 * in Berlin, some requests go straight to the model), and photographs the
 * dashboard in headless Chromium. `npm run docs:dashboard`.
 */
import { join } from "node:path";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import { parseSettings } from "../../gateway/config";
import { loadApp } from "../../sdk/load-app";
import { launchChromium } from "../../test/support/browser";
import { featurize } from "./model/featurize";

const API_KEY = "screenshot-api-key-0123456789";
const MESSAGES = [
  "I was charged twice for my pro plan",
  "the android app crashes after the update",
  "we want a quote for 200 engineers",
  "I forgot my password",
  "congratulations you won a free cruise",
];

async function main(): Promise<void> {
  const app = loadApp(__dirname);
  const target = new LocalTarget({
    spec: app.toDraft(),
    root: app.root,
    settings: parseSettings({ apiKeys: [API_KEY] }),
    logger: pino({ level: "silent" }),
  });
  const base = `http://127.0.0.1:${(await target.listen(0)).port}`;
  const call = (path: string, body: unknown, locality: string) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}`, "x-cloudloom-locality": locality },
      body: JSON.stringify(body),
    }).then((response) => response.arrayBuffer());
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1800, height: 640 } });
    await page.goto(`${base}/_cloudloom/ui`);
    for (let second = 0; second < 60; second++) {
      const burst = 5 + Math.round(15 * Math.abs(Math.sin(second / 9)));
      await Promise.all(
        Array.from({ length: burst }, (_, i) => {
          const message = MESSAGES[(second + i) % MESSAGES.length];
          const locality = i % 3 === 0 ? "de" : "fr";
          return i % 4 === 0
            ? call("/v1/models/intent", { inputs: { features: Array.from(featurize(`${message} ${second}`)) } }, locality)
            : call("/v1/classify", { message: i % 2 ? message : `${message} (${second}.${i})` }, locality);
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    await page.locator("#status", { hasText: /^live$/ }).waitFor();
    const file = join(__dirname, "../../docs/dashboard.png");
    await page.screenshot({ path: file, fullPage: true });
    process.stdout.write(`wrote ${file}\n`);
  } finally {
    await browser.close();
    await target.close();
  }
}

void main();
