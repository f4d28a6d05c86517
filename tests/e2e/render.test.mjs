// A corpus net rendered by the engine and painted by Chromium: the screenshot
// is not blank, and holds the enabled (green) and disabled (grey) transition
// colours in proportion to what the engine says is enabled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, Model } from "../../pkg/petrichain.js";
import { launchBrowser, watchErrors, artifacts } from "./helpers.mjs";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

/** Counts pixels near each colour in a PNG, decoded by the browser itself. */
async function countColours(page, png, colours) {
  return page.evaluate(
    async ({ data, colours }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      const canvas = Object.assign(document.createElement("canvas"), { width: img.width, height: img.height });
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      const counts = Object.fromEntries(Object.keys(colours).map((k) => [k, 0]));
      for (let i = 0; i < px.length; i += 4) {
        for (const [name, [r, g, b]] of Object.entries(colours)) {
          if (Math.abs(px[i] - r) < 12 && Math.abs(px[i + 1] - g) < 12 && Math.abs(px[i + 2] - b) < 12) counts[name]++;
        }
      }
      return counts;
    },
    { data: png.toString("base64"), colours },
  );
}

test("the tic-tac-toe net paints its enabled and disabled transitions", async () => {
  const text = readFileSync(new URL("../fixtures/gopflow-tictactoe.jsonld", import.meta.url), "utf8");
  const model = Model.import(text);
  const start = model.initialMarking();
  const enabled = model.enabled(start, ["x"]);
  assert.equal(enabled.length, 9);
  const svg = model.renderSvg(start, { roles: ["x"] });

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    const errors = watchErrors(page);
    await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`);
    const drawing = page.locator("svg.pc-net");
    assert.equal(await drawing.locator("[data-transition]").count(), 34);
    assert.equal(await drawing.locator('[data-transition][data-enabled="true"]').count(), 9);
    const png = await drawing.screenshot({ path: `${artifacts}render-tictactoe.png` });
    const counts = await countColours(page, png, {
      enabled: [0x43, 0xa0, 0x47], // .pc-enabled .pc-transition-shape
      disabled: [0xcf, 0xd8, 0xdc], // .pc-disabled .pc-transition-shape
      ink: [0x37, 0x47, 0x4f], // node outlines
    });
    assert.ok(counts.enabled > 500, `green pixels: ${counts.enabled}`);
    assert.ok(counts.disabled > counts.enabled, `25 grey vs 9 green transitions: ${JSON.stringify(counts)}`);
    assert.ok(counts.ink > 500, `outlines drawn: ${counts.ink}`);

    // After X plays the centre, O's moves light up instead.
    const next = model.fire(start, "X11", { roles: ["x"] });
    await page.setContent(
      `<!doctype html><html><body style="margin:0">${model.renderSvg(next, { roles: ["o"] })}</body></html>`,
    );
    assert.equal(
      await page.locator('[data-transition][data-enabled="true"]').count(),
      model.enabled(next, ["o"]).length,
    );
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
