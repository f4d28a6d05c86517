// Benchmark of the app's net editor (www/editor.js) in headless Chromium:
// how long one edit takes (an arrow-key move of a node: engine validation of
// the whole draft, the drawing rebuilt, the inspector, localStorage) on
// generated nets of growing size, and the engine's auto-layout of the
// largest. Prints one `BENCH` line per figure (median of the samples).
//   node scripts/bench-editor.mjs            (needs pkg/: bash scripts/ci/wasm-build.sh)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchBrowser, openApp, serveApp } from "../tests/e2e/helpers.mjs";

const SIZES = [100, 500, 2000]; // places + transitions
const SAMPLES = 15;

/** A chain p0 -> t0 -> p1 -> t1 ... of `nodes` nodes on a grid, with positions (no layout on import). */
function chain(nodes) {
  const half = nodes / 2;
  const places = [];
  const transitions = [];
  const arcs = [];
  const at = (i) => ({ x: (i % 40) * 60, y: Math.floor(i / 40) * 80 });
  for (let i = 0; i < half; i++) {
    places.push({ id: `p${i}`, initial: i === 0 ? 1 : 0, ...at(2 * i) });
    transitions.push({ id: `t${i}`, ...at(2 * i + 1) });
    arcs.push({ source: `p${i}`, target: `t${i}` });
    if (i + 1 < half) arcs.push({ source: `t${i}`, target: `p${i + 1}` });
  }
  return { name: `chain-${nodes}`, places, transitions, arcs };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const app = await serveApp();
const browser = await launchBrowser();
const dir = mkdtempSync(join(tmpdir(), "petrichain-bench-editor-"));
try {
  const { context, page } = await openApp(browser, app.url);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.click("#new-net");
  await page.waitForSelector("#editor[open]");
  for (const nodes of SIZES) {
    const file = join(dir, `chain-${nodes}.json`);
    writeFileSync(file, JSON.stringify(chain(nodes)));
    await page.setInputFiles("#ed-import", file);
    await page.waitForFunction((n) => document.querySelectorAll("#ed-canvas .ed-node").length === n, nodes);
    await page.click('#ed-canvas .ed-node[data-id="p0"] > .ed-focus');
    const times = await page.evaluate(async (samples) => {
      const sync = [];
      const frame = [];
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        document.dispatchEvent(
          new KeyboardEvent("keydown", { key: i % 2 ? "ArrowLeft" : "ArrowRight", bubbles: true }),
        );
        sync.push(performance.now() - t0);
        // Until the next frame is painted: style, layout and paint of the new drawing too.
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        frame.push(performance.now() - t0);
      }
      return { sync, frame };
    }, SAMPLES);
    console.log(
      `BENCH editor_edit_${nodes}_nodes sync ${median(times.sync).toFixed(1)} ms, to next frame ${median(times.frame).toFixed(1)} ms (median of ${SAMPLES})`,
    );
  }
  const layout = [];
  for (let i = 0; i < 5; i++) {
    layout.push(
      await page.evaluate(() => {
        const t0 = performance.now();
        document.getElementById("ed-layout").click();
        return performance.now() - t0;
      }),
    );
  }
  console.log(
    `BENCH editor_auto_layout_${SIZES.at(-1)}_nodes ${median(layout).toFixed(1)} ms (median of 5, redraw included)`,
  );
  await context.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
  await browser.close();
  await app.close();
}
