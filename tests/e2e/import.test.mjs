// Importing the user's own net file, by the file picker and by drag and drop,
// with the engine's warnings or error shown.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { serveApp, launchBrowser, openApp, tokens, waitForEvents } from "./helpers.mjs";

const corpus = (name) => new URL(`../fixtures/${name}`, import.meta.url).pathname;

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

test("a JSON net chosen with the file picker becomes a stream", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setInputFiles("#file-input", corpus("gopflow-sir_model.json"));
  await page.waitForFunction(() => /^gopflow-sir-model-[0-9a-z]{4}$/.test(document.body.dataset.stream));
  assert.match(await page.textContent("#import-report"), /^Imported gopflow-sir_model\.json with no warnings\.$/);
  assert.equal(await page.locator("#marking tbody tr").count(), 3);
  const enabled = await page.locator('#transitions [data-enabled="true"]').first().getAttribute("data-transition");
  await page.click(`#net [data-transition="${enabled}"]`);
  await waitForEvents(page, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a net dropped on the page is imported", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const text = await readFile(corpus("gopflow-pc_small.json"), "utf8");
  const dataTransfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "pc_small.json", { type: "application/json" }));
    return dt;
  }, text);
  await page.dispatchEvent("#dropzone", "dragover", { dataTransfer });
  assert.match(await page.getAttribute("#dropzone", "class"), /dragging/);
  await page.dispatchEvent("#dropzone", "drop", { dataTransfer });
  await page.waitForFunction(() => /^pc-small-[0-9a-z]{4}$/.test(document.body.dataset.stream));
  assert.doesNotMatch(await page.getAttribute("#dropzone", "class"), /dragging/);
  assert.ok((await page.locator("#marking tbody tr").count()) > 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a broken file is refused with the engine's error and opens nothing", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setInputFiles("#file-input", {
    name: "broken.json",
    mimeType: "application/json",
    buffer: Buffer.from('{"places": [{"id": "p"}],\n "arcs": [{"source": "p"'),
  });
  await page.waitForSelector("#import-report.bad");
  assert.match(await page.textContent("#import-report"), /^Could not import broken\.json: SYNTAX: .*(\b2:\d+|line 2)/);
  assert.equal(await page.getAttribute("body", "data-stream"), "");
  // No marking row for the broken net's place (counted now, not awaited:
  // reading a row that never comes would wait for the locator's timeout).
  assert.equal(await page.locator('#marking tr[data-place="p"]').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a PNML file from the corpus (ProM dialect) imports with its warnings listed, fires and exports as PNML", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setInputFiles("#file-input", corpus("pm4py-running-example.pnml"));
  await page.waitForFunction(() => /^pm4py-running-example-[0-9a-z]{4}$/.test(document.body.dataset.stream));
  const report = await page.textContent("#import-report");
  assert.match(report, /^Imported pm4py-running-example\.pnml/);
  const warnings = await page.locator("#import-report .warnings li").allTextContents();
  assert.match(report, warnings.length ? /with \d+ warnings?:/ : /with no warnings\./);
  for (const w of warnings) assert.match(w, /^(\d+:\d+ )?\S.*: \S/, "each warning says where and what");
  assert.equal(await page.locator("#marking tbody tr").count(), 9);
  assert.equal(await tokens(page, "n1"), 1);
  await page.click('#net [data-transition="n10"]');
  await waitForEvents(page, 1);
  assert.equal(await tokens(page, "n1"), 0);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-pnml")]);
  const pnml = await readFile(await download.path(), "utf8");
  assert.match(pnml, /<pnml[\s>]/);
  assert.match(pnml, /<transition id="n10"/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a PNEditor .pflow file imports too", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.setInputFiles("#file-input", corpus("pneditor-insurance-company.pflow"));
  await page.waitForFunction(() => /^pneditor-insurance-company-[0-9a-z]{4}$/.test(document.body.dataset.stream));
  assert.match(await page.textContent("#import-report"), /^Imported pneditor-insurance-company\.pflow/);
  assert.ok((await page.locator("#transitions [data-transition]").count()) > 0);
  assert.deepEqual(errors, []);
  await context.close();
});
