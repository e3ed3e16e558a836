import assert from "node:assert/strict";
import pino from "pino";
import type { Browser, Page } from "playwright-core";
import { LocalTarget } from "../../cli/local-target";
import { parseSettings } from "../../gateway/config";
import { appGraph } from "../../sdk/graph";
import { loadApp } from "../../sdk/load-app";
import { launchChromium, watchedPage } from "../support/browser";
import { endpointsFor, gatewaySpec, post, startGateway, type StartedGateway } from "../support/gateway-app";
import { StubUpstream } from "../support/upstream";

const API_KEY = "browser-test-api-key-0123456789";
const ADMIN_KEY = "browser-test-admin-key-0123456789";
const UI = "/_cloudloom/ui";
const WAIT = { timeout: 60_000 };

/** The live lines under the node `id`, as the page shows them. */
function liveText(page: Page, id: string): Promise<string[]> {
  return page.$$eval(`g[data-node="${id}"] text.live`, (lines) => lines.map((line) => line.textContent ?? ""));
}

/** Waits until the page's status reads `text`. */
function statusIs(page: Page, text: RegExp): Promise<void> {
  return page.locator("#status", { hasText: text }).waitFor(WAIT);
}

/** Waits until the node `id` shows `text`. */
function nodeShows(page: Page, id: string, text: RegExp): Promise<void> {
  return page.locator(`g[data-node="${id}"]`, { hasText: text }).waitFor(WAIT);
}

describe("the dashboard in a real browser (headless Chromium)", function () {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  describe("on the local target, opened from this machine", () => {
    const app = loadApp("examples/support-desk");
    let target: LocalTarget;
    let base: string;

    before(async () => {
      target = new LocalTarget({
        spec: app.toDraft(),
        root: app.root,
        settings: parseSettings({ apiKeys: [API_KEY], adminKey: ADMIN_KEY }),
        logger: pino({ level: "silent" }),
      });
      base = `http://127.0.0.1:${(await target.listen(0)).port}`;
    });
    after(() => target?.close());

    it("draws every entry of the spec as a node, live, with no console errors", async () => {
      const { page, errors } = await watchedPage(browser);
      await page.goto(`${base}${UI}`);
      await statusIs(page, /^live$/);
      const drawn = await page.$$eval("g[data-node]", (nodes) => nodes.map((node) => node.getAttribute("data-node")).sort());
      const expected = appGraph(app.toDraft())
        .nodes.map((node) => node.id)
        .sort();
      assert.deepEqual(drawn, expected);
      assert.equal(expected.length, 12, "3 routes, 2 functions, a model version, a GPU pool, 3 policies, 2 regions");
      await page.locator("#charts .uplot").first().waitFor(WAIT);
      assert.deepEqual(errors, []);
      await page.close();
    });

    it("shows the numbers change after traffic: the cache hit ratio goes from 0 % to 50 % after two identical requests", async () => {
      const { page, errors } = await watchedPage(browser);
      await page.goto(`${base}${UI}`);
      await statusIs(page, /^live$/);
      const route = "route:POST /v1/classify";
      assert.match((await liveText(page, route))[2], /^cache hits – /, "no lookup yet: no ratio");

      const body = { message: "my invoice shows a double charge" };
      assert.equal((await post(base, "/v1/classify", body, API_KEY)).headers.get("x-cache"), "MISS");
      await nodeShows(page, route, /cache hits 0 %/);
      assert.equal((await post(base, "/v1/classify", body, API_KEY)).headers.get("x-cache"), "HIT");
      await nodeShows(page, route, /cache hits 50 %/);

      const lines = await liveText(page, route);
      assert.match(lines[1], / 2 req$/);
      assert.match((await liveText(page, "function:classify"))[0], /^warm [1-9]/);
      assert.deepEqual(errors, []);
      await page.close();
    });

    it("never shows an API key, the admin key or a request body", async () => {
      const { page } = await watchedPage(browser);
      const secretMessage = "please refund order 77-secret-body-text";
      await post(base, "/v1/classify", { message: secretMessage }, API_KEY);
      await page.goto(`${base}${UI}`);
      await statusIs(page, /^live$/);
      await nodeShows(page, "route:POST /v1/classify", / [1-9]\d* req/);
      const html = await page.content();
      const stream = await page.evaluate(async (url) => {
        const response = await fetch(url);
        const reader = response.body!.getReader();
        const { value } = await reader.read();
        await reader.cancel();
        return new TextDecoder().decode(value);
      }, `${base}${UI}/events`);
      for (const secret of [API_KEY, ADMIN_KEY, secretMessage, "refund"]) {
        assert.ok(!html.includes(secret), `the page shows ${secret}`);
        assert.ok(!stream.includes(secret), `the stream carries ${secret}`);
      }
      await page.close();
    });

    it("renders a clear disconnected state, with the graph, when the metrics endpoint is down", async () => {
      const { page } = await watchedPage(browser);
      await page.route(`**${UI}/events`, (route) => route.fulfill({ status: 503, contentType: "application/json", body: "{}" }));
      await page.goto(`${base}${UI}`);
      await statusIs(page, /^disconnected: the metrics endpoint answered 503; retrying/);
      assert.equal(await page.$$eval("g[data-node]", (nodes) => nodes.length), 12);
      assert.equal(await page.locator("body").getAttribute("data-state"), "disconnected");
      await page.close();
    });
  });

  describe("in front of a deployed stack", () => {
    let central: StubUpstream;
    let edge: StubUpstream;
    let gateway: StartedGateway;

    beforeEach(async () => {
      central = await new StubUpstream("central").start();
      edge = await new StubUpstream("edge").start();
      gateway = await startGateway(gatewaySpec(), central, edge, { adminKey: ADMIN_KEY });
    });
    afterEach(async () => {
      await gateway.close();
      await central.kill();
      await edge.kill();
    });

    it("asks for the admin key, refuses a wrong one, and opens with the right one", async () => {
      const { page } = await watchedPage(browser);
      await page.goto(`${gateway.base}${UI}`);
      await statusIs(page, /^the admin key is needed$/);
      assert.equal(await page.$$eval("g[data-node]", (nodes) => nodes.length), 0, "no graph without the key");

      await page.fill("#admin-key", "not-the-admin-key-000000");
      await page.click("#key-form button");
      await page.locator("#key-error", { hasText: /not valid/ }).waitFor(WAIT);

      await page.fill("#admin-key", ADMIN_KEY);
      await page.click("#key-form button");
      await statusIs(page, /^live$/);
      assert.ok((await page.$$eval("g[data-node]", (nodes) => nodes.length)) > 0);
      assert.equal(await page.isHidden("#key-form"), true);
      await page.close();
    });

    it("redraws the graph when the gateway reloads another spec", async () => {
      const { page, errors } = await watchedPage(browser);
      await page.addInitScript(`sessionStorage.setItem("cloudloom-admin-key", ${JSON.stringify(ADMIN_KEY)})`);
      await page.goto(`${gateway.base}${UI}`);
      await statusIs(page, /^live$/);
      await page.locator("text.edge-label", { hasText: "90 %" }).waitFor(WAIT);
      const next = gatewaySpec({ v1: 40, v2: 60 });
      await gateway.gateway.reload(next, { kind: "remote", endpoints: endpointsFor(next, central, edge) });
      await page.locator("text.edge-label", { hasText: "60 %" }).waitFor(WAIT);
      assert.equal(await page.locator("text.edge-label", { hasText: "90 %" }).count(), 0);
      assert.deepEqual(errors, []);
      await page.close();
    });

    it("turns disconnected, keeping its graph, when the gateway goes away", async () => {
      const { page } = await watchedPage(browser);
      await page.addInitScript(`sessionStorage.setItem("cloudloom-admin-key", ${JSON.stringify(ADMIN_KEY)})`);
      await page.goto(`${gateway.base}${UI}`);
      await statusIs(page, /^live$/);
      await gateway.close();
      await statusIs(page, /^disconnected: /);
      assert.ok((await page.$$eval("g[data-node]", (nodes) => nodes.length)) > 0);
      await page.close();
    });
  });
});
