import { defineConfig } from "vite";

// The build goes into the Python package, which serves it at "/" (and ships it in the
// wheel). It is committed: .ci/run rebuilds it and fails if the result differs.
export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/headwater/server/ui_dist",
    emptyOutDir: true,
    target: "es2020",
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  server: { proxy: { "/api": "http://127.0.0.1:4200" } },
});
