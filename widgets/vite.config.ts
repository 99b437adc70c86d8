// Builds into the Python package so `pip install` serves the widget without npm:
// hookshot/widget_static/ is committed and served at /widgetapi/v1/static/.
import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";
import { docsPage } from "./docsPage";

// docs/templates.md as templates.html beside index.html: the template editor links to it.
const TEMPLATE_DOCS = new URL("../docs/templates.md", import.meta.url);
const templateDocs = (): Plugin => ({
  name: "hookshot-template-docs",
  generateBundle() {
    this.emitFile({
      type: "asset",
      fileName: "templates.html",
      source: docsPage(readFileSync(TEMPLATE_DOCS, "utf8")),
    });
  },
  configureServer(server) {
    server.middlewares.use("/templates.html", (_req, res) => {
      res.setHeader("Content-Type", "text/html; charset=utf-8");
      res.end(docsPage(readFileSync(TEMPLATE_DOCS, "utf8")));
    });
  },
});

export default defineConfig({
  // Relative asset URLs: the widget works under any publicUrl prefix (reverse proxies).
  base: "./",
  plugins: [templateDocs()],
  resolve: {
    // The package ships its TypeScript source as ES modules: bundling that instead of its
    // CommonJS build lets the client-side half be tree-shaken (49 kB instead of 135 kB).
    alias: { "matrix-widget-api": "matrix-widget-api/src/index.ts" },
  },
  build: {
    outDir: "../hookshot/widget_static",
    emptyOutDir: true,
    target: "es2020",
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev` with HOOKSHOT_URL=http://127.0.0.1:9000 talks to a running bridge.
    proxy: process.env.HOOKSHOT_URL
      ? { "/widgetapi": { target: process.env.HOOKSHOT_URL, changeOrigin: true } }
      : undefined,
  },
});
