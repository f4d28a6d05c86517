// Tab order follows the visual order: at 390 px, with a stream open, the net
// comes first on screen and so first for the keyboard (narrow-order.js puts
// the DOM in that order); at desktop width the sidebar is first again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serveApp, launchBrowser, artifacts, watchErrors, startExample } from "./helpers.mjs";

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

/** Reloads the page (the open stream stays open), presses Tab `n` times and returns where the focus went each time. */
async function tabThrough(page, n) {
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForFunction(() => document.body.dataset.stream);
  const seen = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press("Tab");
    seen.push(
      await page.evaluate(() => {
        const e = document.activeElement;
        const region = e.closest(".sidebar") ? "sidebar" : e.closest("#net-section") ? "net" : "page";
        const within = e.closest("#fire-options, .stream-actions, .exports, .net-body, .net-head");
        const part = within ? within.id || within.className : "";
        return { id: e.id || e.dataset.transition || e.dataset.example || e.textContent.trim(), region, part };
      }),
    );
  }
  return seen;
}

test("at 390 px Tab reaches the net's controls first, in the order they are drawn", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  await startExample(page, "counter");
  const seen = await tabThrough(page, 40);
  // The skip link, then the net's controls (the stream's own: edit, find, zoom, transitions).
  assert.equal(seen[0].id, "Skip to the net");
  const firstSix = seen.slice(1, 7);
  assert.deepEqual(
    firstSix.map((s) => s.region),
    Array(6).fill("net"),
    `the first controls are the net's: ${JSON.stringify(firstSix)}`,
  );
  const at = (pred) => seen.findIndex(pred);
  const search = at((s) => s.id === "net-search");
  const transition = at((s) => s.id === "inc");
  const role = at((s) => s.id === "role");
  const rename = at((s) => s.id === "stream-rename");
  const exportEvents = at((s) => s.id === "export-events");
  const gallery = at((s) => s.region === "sidebar");
  for (const [name, i] of Object.entries({ search, transition, role, rename, exportEvents, gallery }))
    assert.ok(i > 0, `${name} reached in the first 40 Tabs: ${JSON.stringify(seen)}`);
  assert.ok(search < transition && transition < role && role < rename && rename < exportEvents, JSON.stringify(seen));
  assert.ok(exportEvents < gallery, "the sidebar comes after the stream");
  // What the eye sees agrees: the firing options are drawn below the net, the exports below them.
  const y = async (sel) => (await page.locator(sel).boundingBox()).y;
  assert.ok((await y("#net")) < (await y("#fire-options")));
  assert.ok((await y("#fire-options")) < (await y("#stream-rename")));
  assert.ok((await y("#stream-rename")) < (await y("#export-events")));
  assert.ok((await y("#export-events")) < (await y("#gallery")));
  await page.focus("#role");
  await page.screenshot({ path: `${artifacts}tab-order-390.png`, fullPage: true });

  // Back at desktop width the sidebar is first again, and the stream's head holds its buttons.
  await page.setViewportSize({ width: 1400, height: 900 });
  const wide = await tabThrough(page, 3);
  assert.equal(wide[1].region, "sidebar", JSON.stringify(wide));
  assert.equal(await page.locator(".net-head .stream-actions").count(), 1);
  assert.equal(await page.locator(".net-head .exports").count(), 1);
  const side = await page.locator(".sidebar").boundingBox();
  assert.ok(side.x + side.width <= (await page.locator("#net").boundingBox()).x, "sidebar left of the net");
  await page.screenshot({ path: `${artifacts}tab-order-1400.png` });
  assert.deepEqual(errors, []);
  await context.close();
});
