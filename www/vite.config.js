import { defineConfig } from "vite";

const repo = new URL("..", import.meta.url).pathname;

// The app imports "petrichain" exactly as a user of the npm package would; the
// alias points it at the package's browser entry (js/browser.js, which loads
// ../pkg built by scripts/build-wasm.sh), the same file `exports` publishes.
//
// `precache` writes precache.json: the list of files this build produced, which
// the service worker (public/sw.js, copied as is) caches on install so the app
// works offline after the first visit.
function precache() {
  return {
    name: "petrichain-precache",
    apply: "build",
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).sort();
      const version = files.join("|");
      let hash = 0;
      for (let i = 0; i < version.length; i++) hash = (hash * 31 + version.charCodeAt(i)) >>> 0;
      this.emitFile({
        type: "asset",
        fileName: "precache.json",
        source: JSON.stringify({ version: hash.toString(16), files: ["./", ...files] }, null, 1),
      });
    },
  };
}

export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  base: "./",
  resolve: { alias: { petrichain: `${repo}js/browser.js` } },
  server: { fs: { allow: [repo] } },
  plugins: [precache()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
