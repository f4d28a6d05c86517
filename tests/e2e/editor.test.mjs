// The net editor (www/editor.js) in headless Chromium: a net drawn from
// nothing with the pointer, played on the draft, saved as a model, a stream
// of it fired and found again after a reload; undo / redo; the engine's
// validation messages on the elements; the keyboard alone at 390 px; a copy
// of an example laid out, imported and exported. Screenshots go to
// tests/artifacts/editor-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import {
  serveApp,
  launchBrowser,
  artifacts,
  openApp,
  startExample,
  tokens,
  waitForEvents,
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

/** Opens the editor on a fresh draft. */
async function openEditor(page) {
  await page.click("#new-net");
  await page.waitForSelector("#editor[open]");
}

/** Clicks the editor's canvas at fractions (fx, fy) of its size. */
async function clickCanvas(page, fx, fy) {
  const box = await page.locator("#ed-canvas").boundingBox();
  await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
}

const node = (id) => `#ed-canvas .ed-node[data-id="${id}"]`;
/** The part of a node that takes clicks, the focus and has the name. */
const stop = (id) => `${node(id)} > .ed-focus`;
const arc = (source, target) => `#ed-canvas .ed-arc[data-source="${source}"][data-target="${target}"]`;
const arcStop = (source, target) => `${arc(source, target)} > .ed-focus`;
const count = (page, selector) => page.locator(selector).count();

/** Fills an inspector field the way a user types (input events). */
async function setField(page, name, value) {
  await page.fill(`#ed-f-${name}`, String(value));
}

test("a net drawn from nothing: played on the draft, saved, a stream fired, found after a reload", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setViewportSize({ width: 1400, height: 900 });
  await openEditor(page);
  assert.equal(await count(page, "#ed-canvas .ed-node"), 0);

  // Two places and a transition, with the pointer.
  await page.click("#ed-tool-place");
  await clickCanvas(page, 0.25, 0.5);
  await clickCanvas(page, 0.75, 0.5);
  await page.click("#ed-tool-transition");
  await clickCanvas(page, 0.5, 0.5);
  assert.equal(await count(page, "#ed-canvas .ed-place"), 2);
  assert.equal(await count(page, "#ed-canvas .ed-transition"), 1);

  // Arcs p1 -> t1 -> p2 with the arc tool.
  await page.click("#ed-tool-arc");
  await page.click(stop("p1"));
  assert.match(await page.textContent("#ed-msg"), /Arc from p1/);
  const t1box = await page.locator(`${stop("t1")} rect`).boundingBox();
  await page.mouse.move(t1box.x - 30, t1box.y + 10);
  assert.equal(await count(page, "#ed-canvas .ed-band"), 1, "a dashed line follows the pointer");
  await page.click(stop("t1"));
  assert.equal(await count(page, "#ed-canvas .ed-band"), 0);
  await page.click(stop("t1"));
  await page.click(stop("p2"));
  assert.equal(await count(page, "#ed-canvas .ed-arc"), 2);
  // An arc between two places is refused with the reason, and changes nothing.
  await page.click(stop("p1"));
  await page.click(stop("p2"));
  assert.match(await page.textContent("#ed-msg"), /joins a place and a transition, not two places/);
  assert.equal(await count(page, "#ed-canvas .ed-arc"), 2);

  // Tokens, a label, a weight, a role, a name.
  await page.click("#ed-tool-select");
  await page.click(stop("p1"));
  await setField(page, "initial", 3);
  await setField(page, "label", "Inbox");
  await page.click(`${arc("p1", "t1")} .ed-arc-hit`, { force: true }); // a line: no height for the visibility check
  assert.equal(await page.inputValue("#ed-f-kind"), "normal");
  await setField(page, "weight", 2);
  await page.click(stop("t1"));
  await setField(page, "roles", "clerk");
  await page.fill("#ed-name", "Drawn net");
  assert.equal(await page.getAttribute(node("p1"), "data-tokens"), "3");
  assert.equal(await page.getAttribute(arc("p1", "t1"), "data-weight"), "2");
  assert.equal(await page.textContent(`${arc("p1", "t1")} .ed-weight`), "2");
  assert.equal(await page.getAttribute("#editor", "data-valid"), "true");
  const modelId = await page.getAttribute("#editor", "data-model-id");
  assert.match(modelId, /^[0-9a-f]{64}$/);
  assert.match(await page.textContent("#ed-status"), new RegExp(`Valid · id ${modelId.slice(0, 12)}`));
  await page.screenshot({ path: `${artifacts}editor-drawn.png` });

  // The token game on the draft: nothing is stored.
  await page.click("#ed-mode-play");
  assert.equal(await page.getAttribute(node("t1"), "data-enabled"), "true");
  await page.click(stop("t1"));
  assert.equal(await page.getAttribute(node("p1"), "data-tokens"), "1");
  assert.equal(await page.getAttribute(node("p2"), "data-tokens"), "1");
  assert.equal(await page.getAttribute(node("t1"), "data-enabled"), "false");
  await page.click(stop("t1"));
  assert.match(await page.textContent("#ed-msg"), /^NOT_ENABLED: .*p1.*has 1.*needs 2/);
  // A role the transition does not take is refused by the engine too.
  await page.click("#ed-reset");
  await page.selectOption("#ed-play-role", "");
  await page.click(stop("t1"));
  assert.match(await page.textContent("#ed-msg"), /^ROLE_DENIED/);
  assert.equal(await page.getAttribute(node("p1"), "data-tokens"), "3");
  await page.selectOption("#ed-play-role", "*");
  await page.click(stop("t1"));
  assert.match(await page.textContent("#ed-played"), /1 fired: t1/);
  await page.screenshot({ path: `${artifacts}editor-play.png` });
  await page.click("#ed-reset");
  assert.equal(await page.getAttribute(node("p1"), "data-tokens"), "3");
  assert.equal(await page.getAttribute("#editor", "data-model-id"), modelId, "playing changes nothing");
  assert.equal(await page.evaluate(() => document.body.dataset.stream), "", "no stream yet");

  // Save: a model in the ledger and a stream of it, opened in the app.
  await page.click("#ed-mode-edit");
  await page.fill("#ed-stream-name", "drawn-1");
  await page.click("#ed-save");
  await page.waitForFunction(() => document.body.dataset.stream === "drawn-1");
  await page.waitForSelector("#editor", { state: "hidden" });
  assert.equal(await page.getAttribute("#net svg", "data-model"), modelId, "the stream runs the drawn model");
  assert.equal(await page.textContent("#model-name"), "Drawn net");
  await page.selectOption("#role", "clerk");
  await page.click('#net [data-transition="t1"]');
  await waitForEvents(page, 1);
  assert.equal(await tokens(page, "p1"), 1);
  assert.equal(await tokens(page, "p2"), 1);

  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.evaluate(() => document.body.dataset.stream), "drawn-1");
  await waitForEvents(page, 1);
  assert.equal(await tokens(page, "p1"), 1);
  assert.equal(await page.getAttribute("#net svg", "data-model"), modelId);
  assert.equal(await count(page, '#streams [data-stream="drawn-1"]'), 1);
  // The saved draft is done with: "Draw a new net" starts from nothing (after the reload too).
  await openEditor(page);
  assert.equal(await count(page, "#ed-canvas .ed-node"), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("undo and redo: adding, typing, moving and deleting are steps; Ctrl+Z / Ctrl+Shift+Z and the buttons", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await openEditor(page);
  await page.keyboard.press("p");
  await page.keyboard.press("p");
  await page.keyboard.press("t");
  assert.equal(await count(page, "#ed-canvas .ed-node"), 3);
  // The added transition is selected and focused: connect it from the keyboard.
  assert.equal(await page.evaluate(() => document.activeElement.closest(".ed-node").dataset.id), "t1");
  await page.selectOption("#ed-connect-node", { label: "← from p1" });
  await page.click(".ed-connect button");
  assert.equal(await count(page, arc("p1", "t1")), 1);

  await page.keyboard.press("Control+z");
  assert.equal(await count(page, "#ed-canvas .ed-arc"), 0);
  await page.keyboard.press("Control+z");
  assert.equal(await count(page, "#ed-canvas .ed-transition"), 0);
  await page.keyboard.press("Control+Shift+z");
  await page.keyboard.press("Control+y");
  assert.equal(await count(page, arc("p1", "t1")), 1);
  assert.equal(await page.isDisabled("#ed-redo"), true);

  // Typing an id is one step, whatever its length; the arc follows the rename.
  await page.click(stop("p1"));
  await page.focus("#ed-f-id");
  await page.keyboard.press("End");
  await page.keyboard.type("-in");
  assert.equal(await count(page, node("p1-in")), 1);
  assert.equal(await count(page, arc("p1-in", "t1")), 1);
  await page.click("#ed-undo");
  assert.equal(await count(page, node("p1")), 1);
  assert.equal(await count(page, arc("p1", "t1")), 1);
  await page.click("#ed-redo");
  assert.equal(await count(page, node("p1-in")), 1);

  // A drag is one step.
  const before = await page.locator(`${node("t1")} rect`).boundingBox();
  await page.mouse.move(before.x + 15, before.y + 15);
  await page.mouse.down();
  await page.mouse.move(before.x + 65, before.y + 95, { steps: 6 });
  await page.mouse.up();
  const xy = async () => [
    Number(await page.getAttribute(`${node("t1")} rect`, "x")),
    Number(await page.getAttribute(`${node("t1")} rect`, "y")),
  ];
  const [x1, y1] = await xy();
  await page.click("#ed-undo");
  const [x0, y0] = await xy();
  assert.ok(y1 - y0 >= 40 && (y1 - y0) % 20 === 0 && (x1 - x0) % 20 === 0, `moved on the grid: ${[x0, y0, x1, y1]}`);
  await page.click("#ed-redo");
  assert.deepEqual(await xy(), [x1, y1]);
  await page.click("#ed-undo");
  assert.deepEqual(await xy(), [x0, y0], "one undo puts it back");

  // Deleting a node takes its arcs; undo brings both back.
  await page.click(stop("t1"));
  await page.keyboard.press("Delete");
  assert.equal(await count(page, node("t1")), 0);
  assert.equal(await count(page, "#ed-canvas .ed-arc"), 0);
  assert.match(await page.textContent("#ed-msg"), /Deleted transition t1 and 1 arc/);
  await page.keyboard.press("Control+z");
  assert.equal(await count(page, node("t1")), 1);
  assert.equal(await count(page, arc("p1-in", "t1")), 1);

  // Escape clears the selection first, then closes; the draft survives a reload.
  await page.click(stop("t1"));
  await page.keyboard.press("Escape");
  assert.equal(await page.getAttribute(stop("t1"), "aria-pressed"), "false");
  assert.equal(await page.isVisible("#editor"), true);
  await page.keyboard.press("Escape");
  await page.waitForSelector("#editor", { state: "hidden" });
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await openEditor(page);
  assert.equal(await count(page, "#ed-canvas .ed-node"), 3);
  assert.equal(await count(page, arc("p1-in", "t1")), 1);
  assert.match(await page.textContent("#ed-msg"), /Your draft, as you left it/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("live validation: the engine's messages on the element, in the inspector and the list; Play and Save wait", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setViewportSize({ width: 1400, height: 900 });
  await openEditor(page);
  await page.keyboard.press("p");
  await page.keyboard.press("t");
  await page.keyboard.press("p");
  await page.click(stop("p1"));
  await setField(page, "capacity", 2);
  await setField(page, "initial", 5);
  const capacity = "place p1: initial 5 is above capacity 2";
  assert.equal(await page.getAttribute(node("p1"), "data-problems"), capacity);
  assert.match(await page.textContent(`${node("p1")} .ed-problem-text`), /initial 5 is above capacity 2/);
  assert.match(await page.getAttribute(stop("p1"), "aria-label"), /Problem: place p1: initial 5 is above capacity 2/);
  assert.equal(await page.textContent("#ed-f-problems"), capacity);
  assert.equal(await page.getAttribute("#ed-f-initial", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#ed-f-capacity", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#ed-f-id", "aria-invalid"), null, "only the fields at fault");
  assert.equal(await page.textContent("#ed-status"), "1 problem");
  assert.equal(await page.textContent("#ed-problems"), `INVALID_MODEL: ${capacity}`);
  assert.equal(await page.isDisabled("#ed-save"), true);
  assert.equal(await page.isDisabled("#ed-export-json"), true);

  // A duplicate id: both nodes say so. The focus stays in the field while typing.
  await page.click(stop("p2"));
  await setField(page, "id", "p1");
  assert.equal(await page.evaluate(() => document.activeElement.id), "ed-f-id");
  assert.equal(await page.getAttribute("#ed-f-id", "aria-invalid"), "true");
  assert.equal(await count(page, '#ed-canvas .ed-place.ed-invalid[data-id="p1"]'), 2);
  assert.equal(await page.textContent("#ed-status"), "2 problems");
  // An inhibitor arc from a transition: the draft takes it, the engine refuses the net.
  await page.click(stop("t1"));
  await page.selectOption("#ed-connect-node", { label: "→ to p1" });
  await page.selectOption("#ed-connect-kind", "inhibitor");
  await page.click(".ed-connect button");
  assert.match(
    await page.getAttribute(arc("t1", "p1"), "data-problems"),
    /arc t1->p1: a inhibitor arc must run from a place to a transition/,
  );
  // A problem in the list selects its element.
  await page.click('#ed-problems button:has-text("initial 5")');
  assert.equal(await page.inputValue("#ed-f-initial"), "5");
  await page.click('#ed-canvas .ed-place[data-id="p1"] >> nth=1 >> .ed-focus');
  await setField(page, "id", "p2");
  // A fraction: the reader's BAD_VALUE, on the place.
  await page.click(stop("p1"));
  await setField(page, "initial", "1.5");
  assert.match(await page.getAttribute(node("p1"), "data-problems"), /expected a non-negative integer, found 1\.5/);
  assert.equal(await page.getAttribute("#ed-f-initial", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#ed-f-capacity", "aria-invalid"), null);
  await page.screenshot({ path: `${artifacts}editor-problems.png` });

  await page.click("#ed-mode-play");
  assert.match(await page.textContent("#ed-msg"), /Fix the 1 problem\(s\) first/);
  assert.equal(await page.getAttribute("#editor", "data-mode"), "edit");

  // Fixed: valid again, the list empties, Play works.
  await setField(page, "initial", 2);
  await page.click(`${arc("t1", "p1")} .ed-arc-hit`, { force: true });
  await page.selectOption("#ed-f-kind", "normal");
  assert.equal(await page.getAttribute("#editor", "data-valid"), "true");
  assert.equal(await count(page, "#ed-canvas .ed-invalid"), 0);
  assert.equal(await count(page, "#ed-problems li"), 0);
  await page.click("#ed-mode-play");
  assert.equal(await page.getAttribute("#editor", "data-mode"), "play");
  assert.deepEqual(errors, []);
  await context.close();
});

test("keyboard alone at 390 px: every step reachable, nodes named for screen readers, nothing wider than the screen", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  await page.focus("#new-net");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#editor[open]");
  await page.keyboard.press("p");
  await page.keyboard.press("t");
  await page.keyboard.press("p");
  // Tab from the toolbar reaches the nodes of the drawing, each with a name.
  const names = await page.$$eval("#ed-canvas .ed-node > .ed-focus", (els) =>
    els.map((e) => [e.tabIndex, e.getAttribute("aria-label")]),
  );
  assert.deepEqual(names, [
    [0, "Place p1, 0 tokens"],
    [0, "Place p2, 0 tokens"],
    [0, "Transition t1"],
  ]);
  await page.focus(stop("p1"));
  await page.keyboard.press("Enter");
  assert.equal(await page.getAttribute(stop("p1"), "aria-pressed"), "true");
  // The inspector is reached with Tab; type tokens, connect p1 -> t1 -> p2.
  await page.focus("#ed-f-initial");
  await page.keyboard.press("Control+a");
  await page.keyboard.type("2");
  await page.focus("#ed-connect-node");
  await page.selectOption("#ed-connect-node", { label: "→ to t1" });
  await page.focus(".ed-connect button");
  await page.keyboard.press("Enter");
  await page.focus(stop("p2"));
  await page.keyboard.press("Enter");
  await page.selectOption("#ed-connect-node", { label: "← from t1" });
  await page.focus(".ed-connect button");
  await page.keyboard.press("Enter");
  assert.equal(await count(page, "#ed-canvas .ed-arc"), 2);
  assert.equal(await page.getAttribute(arcStop("p1", "t1"), "aria-label"), "Arc from p1 to t1, normal, weight 1");
  // axe-core on the editor while editing (a node selected, arcs drawn).
  assert.deepEqual(await seriousA11yViolations(page), [], "edit mode");
  // Arrow keys move the selection on the grid.
  await page.focus(stop("p2"));
  await page.keyboard.press("Enter");
  const x0 = Number(await page.getAttribute(`${node("p2")} circle.ed-shape`, "cx"));
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("Shift+ArrowRight");
  assert.equal(Number(await page.getAttribute(`${node("p2")} circle.ed-shape`, "cx")), x0 + 120);
  // Play from the keyboard: M, then Enter on the transition.
  await page.keyboard.press("m");
  await page.focus(stop("t1"));
  await page.keyboard.press("Enter");
  assert.equal(await page.getAttribute(node("p2"), "data-tokens"), "1");
  assert.match(await page.getAttribute(stop("t1"), "aria-label"), /Transition t1, enabled/);
  assert.deepEqual(await seriousA11yViolations(page), [], "play mode");
  // Touch fires too.
  await page.locator(stop("t1")).tap();
  assert.equal(await page.getAttribute(node("p2"), "data-tokens"), "2");
  const widths = await page.evaluate(() => ({
    dialog: document.getElementById("editor").scrollWidth,
    view: innerWidth,
  }));
  assert.ok(widths.dialog <= widths.view, `editor ${widths.dialog}px wide on a ${widths.view}px screen`);
  await page.evaluate(() => {
    document.getElementById("editor").scrollTop = 0;
  });
  await page.screenshot({ path: `${artifacts}editor-narrow.png` });
  await page.locator(".ed-side").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${artifacts}editor-narrow-inspector.png` });
  await page.keyboard.press("m");
  await page.keyboard.press("Control+s");
  await page.waitForFunction(() => /^net-[0-9a-z]{4}$/.test(document.body.dataset.stream ?? ""));
  assert.deepEqual(errors, []);
  await context.close();
});

test("a copy of an example: edited, laid out by the engine, exported; a file imported into the editor", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setViewportSize({ width: 1400, height: 900 });
  await startExample(page, "order");
  const original = await page.getAttribute("#net svg", "data-model");
  await page.click("#edit-net");
  await page.waitForSelector("#editor[open]");
  assert.equal(await page.getAttribute("#editor", "data-model-id"), original, "the copy is the same net until edited");
  assert.equal(await count(page, "#ed-canvas .ed-place"), 5);
  assert.equal(await count(page, node("pay")), 1);
  assert.match(await page.textContent("#ed-canvas"), /warehouse/);

  // Auto-layout moves nodes (the engine's layout), one undo step.
  const before = await page.$$eval("#ed-canvas .ed-place circle.ed-shape", (cs) =>
    cs.map((c) => `${c.getAttribute("cx")},${c.getAttribute("cy")}`),
  );
  await page.click("#ed-layout");
  const after = await page.$$eval("#ed-canvas .ed-place circle.ed-shape", (cs) =>
    cs.map((c) => `${c.getAttribute("cx")},${c.getAttribute("cy")}`),
  );
  assert.notDeepEqual(after, before);
  assert.equal(new Set(after).size, 5, "no two places on one spot");
  await page.click("#ed-undo");
  const undone = await page.$$eval("#ed-canvas .ed-place circle.ed-shape", (cs) =>
    cs.map((c) => `${c.getAttribute("cx")},${c.getAttribute("cy")}`),
  );
  assert.deepEqual(undone, before);

  // Export the draft as canonical JSON: the engine's text of the same id.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#ed-export-json")]);
  const json = await readFile(await download.path(), "utf8");
  // Content-addressed: the id is the SHA-256 of exactly this text.
  assert.equal(createHash("sha256").update(json).digest("hex"), await page.getAttribute("#editor", "data-model-id"));
  assert.match(json, /^\{"arcs":\[/);
  assert.match(json, /"place_order"/);
  const [svgDownload] = await Promise.all([page.waitForEvent("download"), page.click("#ed-export-svg")]);
  const svg = await readFile(await svgDownload.path(), "utf8");
  assert.match(svg, /^<svg class="pc-net" data-model="[0-9a-f]{64}"/);
  assert.ok(
    svg.includes(`data-model="${await page.getAttribute("#editor", "data-model-id")}"`),
    "the engine's drawing of the draft",
  );

  // Import a PNEditor file into the editor: a draft of it, laid out if it has no positions.
  await page.setInputFiles(
    "#ed-import",
    new URL("../fixtures/pneditor-insurance-company.pflow", import.meta.url).pathname,
  );
  await page.waitForFunction(() =>
    /Imported pneditor-insurance-company\.pflow/.test(document.getElementById("ed-msg").textContent),
  );
  assert.ok((await count(page, "#ed-canvas .ed-node")) > 5);
  assert.equal(await page.getAttribute("#editor", "data-valid"), "true");
  await page.screenshot({ path: `${artifacts}editor-imported.png` });
  // A broken file says why and keeps the draft.
  const kept = await count(page, "#ed-canvas .ed-node");
  await page.setInputFiles("#ed-import", {
    name: "broken.json",
    mimeType: "application/json",
    buffer: Buffer.from("{"),
  });
  await page.waitForFunction(() => /broken\.json: SYNTAX/.test(document.getElementById("ed-msg").textContent));
  assert.equal(await count(page, "#ed-canvas .ed-node"), kept);
  assert.deepEqual(errors, []);
  await context.close();
});
