// A 500-node net without positions, imported into the app: it opens fitted
// to the frame with a readable aspect ratio, the wheel and the buttons zoom,
// dragging pans, the search box centres a node, and hovering a node lights
// its arcs. The screenshot (tests/artifacts/net-500.png) is for a person to
// look at.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serveApp, launchBrowser, openApp, artifacts } from "./helpers.mjs";

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

/** A random net of `n` nodes (half places), every transition with 1-2 inputs and outputs, no positions. */
function generated(n, seed) {
  let state = BigInt(seed);
  const next = (bound) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number((state >> 33n) % BigInt(bound));
  };
  const np = n / 2;
  const places = Array.from({ length: np }, (_, i) => ({
    id: `p${i}`,
    ...(i % 3 === 0 ? { label: `place ${i}` } : {}),
    initial: next(3),
  }));
  const transitions = Array.from({ length: n - np }, (_, i) => ({ id: `t${i}` }));
  const arcs = [];
  const seen = new Set();
  for (let t = 0; t < n - np; t++) {
    for (const dir of ["in", "out"]) {
      for (let k = 0; k <= next(2); k++) {
        const p = `p${next(np)}`;
        const [source, target] = dir === "in" ? [p, `t${t}`] : [`t${t}`, p];
        if (!seen.has(`${source}>${target}`)) {
          seen.add(`${source}>${target}`);
          arcs.push({ source, target });
        }
      }
    }
  }
  return { name: `generated ${n}`, places, transitions, arcs };
}

test("a 500-node net opens fitted, zooms, pans, finds a node and lights its arcs", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setViewportSize({ width: 1400, height: 1000 });
  const net = generated(500, 7);
  await page.setInputFiles("#file-input", {
    name: "big.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(net)),
  });
  await page.waitForFunction(() => /^big-[0-9a-z]{4}$/.test(document.body.dataset.stream));
  const svg = page.locator("#net svg");
  assert.equal(await svg.locator("[data-place]").count(), 250);
  assert.equal(await svg.locator("[data-transition]").count(), 250);

  // Fitted: the whole drawing, in a frame-sized SVG, aspect within 1:3..3:1.
  assert.equal(await page.getAttribute("#net", "data-zoom"), "1");
  const fitted = (await svg.getAttribute("viewBox")).split(" ").map(Number);
  const aspect = fitted[2] / fitted[3];
  assert.ok(aspect >= 1 / 3 && aspect <= 3, `aspect ${aspect}`);
  const frame = await page.locator("#net").boundingBox();
  const drawn = await svg.boundingBox();
  assert.ok(drawn.width > frame.width * 0.9, "the drawing fills the frame's width");
  await page.screenshot({ path: `${artifacts}net-500.png` });

  // Wheel zoom around the pointer, and the buttons.
  await page.mouse.move(drawn.x + drawn.width / 2, drawn.y + drawn.height / 2);
  await page.mouse.wheel(0, -400);
  const zoomed = Number(await page.getAttribute("#net", "data-zoom"));
  assert.ok(zoomed > 2, `zoomed ${zoomed}`);
  await page.click("#zoom-in");
  assert.ok(Number(await page.getAttribute("#net", "data-zoom")) > zoomed);
  // Dragging pans by what the pointer moved, and fires nothing.
  const before = (await svg.getAttribute("viewBox")).split(" ").map(Number);
  await page.mouse.move(drawn.x + 300, drawn.y + 300);
  await page.mouse.down();
  await page.mouse.move(drawn.x + 400, drawn.y + 350, { steps: 5 });
  await page.mouse.up();
  const after = (await svg.getAttribute("viewBox")).split(" ").map(Number);
  assert.ok(after[0] < before[0] && after[1] < before[1], `${before} -> ${after}`);
  assert.equal(await page.locator("#log tbody tr[data-seq]").count(), 0, "a drag is not a click");
  await page.click("#zoom-fit");
  assert.equal(await page.getAttribute("#net", "data-zoom"), "1");

  // The search box centres the node and marks it.
  await page.fill("#net-search", "place 201");
  await page.press("#net-search", "Enter");
  await page.waitForSelector('#net [data-place="p201"].pc-found');
  const view = (await svg.getAttribute("viewBox")).split(" ").map(Number);
  const c = await page.evaluate(() => {
    const b = document.querySelector('#net [data-place="p201"] .pc-place-shape').getBBox();
    return [b.x + b.width / 2, b.y + b.height / 2];
  });
  assert.ok(Math.abs(c[0] - (view[0] + view[2] / 2)) < 1 && Math.abs(c[1] - (view[1] + view[3] / 2)) < 1, "centred");
  assert.ok(view[2] <= 701, "close enough to read");
  await page.screenshot({ path: `${artifacts}net-500-found.png` });
  await page.fill("#net-search", "no such node");
  await page.press("#net-search", "Enter");
  assert.equal(await page.textContent("#net-search-status"), "not found");

  // Hovering a node lights exactly its arcs.
  const arcsOf = net.arcs.filter((a) => a.source === "p201" || a.target === "p201").length;
  await page.hover('#net [data-place="p201"] .pc-place-shape');
  assert.equal(await page.locator("#net .pc-arc.pc-lit").count(), arcsOf);
  assert.ok(arcsOf > 0);
  await page.screenshot({ path: `${artifacts}net-500-hover.png` });
  await page.mouse.move(5, 5);
  assert.equal(await page.locator("#net .pc-arc.pc-lit").count(), 0);

  // Firing still works by clicking the drawing, and keeps the view.
  await page.fill("#net-search", "t0");
  await page.press("#net-search", "Enter");
  const kept = await svg.getAttribute("viewBox");
  const enabled = await page
    .locator('#net [data-transition][data-enabled="true"]')
    .first()
    .getAttribute("data-transition");
  await page.fill("#net-search", enabled);
  await page.press("#net-search", "Enter");
  const centred = await svg.getAttribute("viewBox");
  await page.click(`#net [data-transition="${enabled}"] rect`);
  await page.waitForSelector("#log tbody tr[data-seq]");
  assert.equal(await page.locator("#net svg").getAttribute("viewBox"), centred, "the redraw keeps the view");
  assert.ok(kept);
  assert.deepEqual(errors, []);
  await context.close();
});
