// The app at a phone's width (390 px, touch) and a desktop's (1400 px): the
// net comes first on the narrow screen, a tap fires; and accessibility:
// axe-core finds no serious or critical violation in the main states, every
// control is reachable by keyboard, the drawing's nodes have names.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  serveApp,
  launchBrowser,
  artifacts,
  watchErrors,
  startExample,
  waitForEvents,
  tokens,
  seriousA11yViolations,
} from "./helpers.mjs";

let app;
let browser;
before(async () => {
  app = await serveApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

async function open(options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  return { context, page, errors };
}

const top = async (page, selector) => (await page.locator(selector).boundingBox()).y;

test("at 390 px the open net comes before the sidebar, and a tap fires", async () => {
  const { context, page, errors } = await open({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  // Nothing open yet: the gallery first, to pick a net.
  assert.ok((await top(page, "#gallery")) < (await top(page, "#net-section")));
  await page.screenshot({ path: `${artifacts}mobile-390-empty.png`, fullPage: true });
  await startExample(page, "counter");
  assert.ok((await top(page, "#net")) < (await top(page, "#gallery")), "the net comes first");
  assert.ok((await top(page, "#net")) < (await top(page, "#fire-options")), "before the firing options and exports");
  assert.ok((await top(page, "#fire-options")) < (await top(page, "#export-events")));
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (page is ${width} px wide)`);
  await page.tap('#net [data-transition="inc"]');
  await waitForEvents(page, 1);
  await page.tap('#transitions [data-transition="inc"]');
  await waitForEvents(page, 2);
  assert.equal(await tokens(page, "count"), 2);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${artifacts}mobile-390.png` });
  await page.screenshot({ path: `${artifacts}mobile-390-full.png`, fullPage: true });
  assert.deepEqual(await seriousA11yViolations(page), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test("at 1400 px the sidebar and the net sit side by side", async () => {
  const { context, page, errors } = await open({ viewport: { width: 1400, height: 900 } });
  await startExample(page, "order");
  const side = await page.locator(".sidebar").boundingBox();
  const net = await page.locator("#net").boundingBox();
  assert.ok(side.x + side.width <= net.x, "sidebar left of the net");
  assert.ok(Math.abs(side.y - (await top(page, "#net-section"))) < 40, "on the same row");
  await page.screenshot({ path: `${artifacts}desktop-1400.png` });
  assert.deepEqual(errors, []);
  await context.close();
});

test("accessibility: no serious axe violations, every control reachable by keyboard, named SVG nodes", async () => {
  const { context, page, errors } = await open({ viewport: { width: 1280, height: 900 } });
  assert.deepEqual(await seriousA11yViolations(page), [], "the empty app");
  await startExample(page, "order");
  await page.click('#net [data-transition="place_order"]');
  await waitForEvents(page, 1);
  await page.click('#log [data-history="1"]');
  await page.waitForSelector("#history-section:not([hidden])");
  assert.deepEqual(await seriousA11yViolations(page), [], "a stream open, with its history");

  // The drawing's nodes carry names for screen readers.
  const names = await page
    .locator("#net [data-place], #net [data-transition]")
    .evaluateAll((els) => els.map((e) => [e.getAttribute("role"), e.getAttribute("aria-label")]));
  assert.ok(names.length > 0);
  for (const [role, name] of names) {
    assert.equal(role, "img");
    assert.match(name, /^\S.*: /);
  }
  assert.ok(names.some(([, n]) => /^placed: 1 token$/.test(n) || /: 1 token/.test(n)));

  // Tab through the page: every visible button, input, select, text area, summary and link is reached.
  const controls = await page.evaluate(() =>
    [...document.querySelectorAll("button, input, select, textarea, summary, a[href], label.button")]
      .filter((e) => e.getClientRects().length && !e.closest("[hidden]") && !e.disabled)
      .map((e) => (e.matches("label.button") ? document.getElementById(e.htmlFor) : e))
      .map(
        (e) =>
          e.id ||
          e.dataset.transition ||
          e.dataset.stream ||
          e.dataset.example ||
          e.dataset.history ||
          e.textContent.trim(),
      ),
  );
  const reached = new Set();
  await page.focus("body");
  for (let i = 0; i < 400 && reached.size < controls.length; i++) {
    await page.keyboard.press("Tab");
    const id = await page.evaluate(() => {
      const e = document.activeElement;
      return e
        ? e.id ||
            e.dataset.transition ||
            e.dataset.stream ||
            e.dataset.example ||
            e.dataset.history ||
            e.textContent.trim()
        : "";
    });
    reached.add(id);
  }
  const missed = controls.filter((c) => !reached.has(c));
  assert.deepEqual(missed, [], "controls never reached with Tab");

  // The stream dialogs too: opened by keyboard, closed by Escape, focus back.
  await page.focus("#stream-rename");
  await page.keyboard.press("Enter");
  await page.waitForSelector("dialog[open]");
  assert.deepEqual(await seriousA11yViolations(page), [], "the rename dialog");
  await page.keyboard.press("Escape");
  await page.waitForSelector("dialog[open]", { state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement.id), "stream-rename");
  assert.deepEqual(errors, []);
  await context.close();
});
