// How fast would the wasm verify signatures if it asked WebCrypto instead of
// carrying its own Ed25519 code (BENCHMARKS.md, "Bundle size", issue 20)?
// Signs N messages shaped like petrichain's (the context prefix and a hash in
// hex) with a WebCrypto Ed25519 key in headless Chromium, then verifies them
// with `crypto.subtle.verify`: all requests issued at once (Promise.all), and
// one at a time; median of ROUNDS.
//
//   node bench/webcrypto/verify.mjs [N=10000] [ROUNDS=5]
import { chromium } from "playwright-core";

const n = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 5);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
});
try {
  const page = await browser.newPage();
  // http://localhost is a secure context (crypto.subtle); the page is
  // answered by Playwright, no server needed.
  await page.route("http://localhost/", (route) =>
    route.fulfill({ contentType: "text/html", body: "<title>verify</title>" }),
  );
  await page.goto("http://localhost/");
  const result = await page.evaluate(
    async ({ n, rounds }) => {
      if (!globalThis.crypto?.subtle) throw new Error("no crypto.subtle in this page");
      const key = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      const enc = new TextEncoder();
      const messages = [];
      for (let i = 0; i < n; i++) {
        const hex = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join(
          "",
        );
        messages.push(enc.encode(`petrichain:event:v2:${hex}`));
      }
      const sigs = await Promise.all(messages.map((m) => crypto.subtle.sign("Ed25519", key.privateKey, m)));
      const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const together = [];
      const oneByOne = [];
      for (let r = 0; r < rounds; r++) {
        let t = performance.now();
        const ok = await Promise.all(
          messages.map((m, i) => crypto.subtle.verify("Ed25519", key.publicKey, sigs[i], m)),
        );
        together.push(performance.now() - t);
        if (!ok.every(Boolean)) throw new Error("a signature did not verify");
        t = performance.now();
        for (let i = 0; i < n; i++) {
          if (!(await crypto.subtle.verify("Ed25519", key.publicKey, sigs[i], messages[i])))
            throw new Error("a signature did not verify");
        }
        oneByOne.push(performance.now() - t);
      }
      return { together: median(together), oneByOne: median(oneByOne) };
    },
    { n, rounds },
  );
  const rate = (ms) => Math.round((n / ms) * 1000).toLocaleString("en-US");
  console.log(`${n} Ed25519 signatures, WebCrypto in headless Chromium, median of ${rounds}:`);
  console.log(`  all at once (Promise.all): ${result.together.toFixed(1)} ms, ${rate(result.together)} signatures/s`);
  console.log(`  one at a time (await each): ${result.oneByOne.toFixed(1)} ms, ${rate(result.oneByOne)} signatures/s`);
} finally {
  await browser.close();
}
