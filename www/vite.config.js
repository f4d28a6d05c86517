import { defineConfig } from "vite";

// The app imports the wasm package from ../pkg (built by scripts/build-wasm.sh).
export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  server: { fs: { allow: [".."] } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
