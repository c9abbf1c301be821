// Bundle page.js + the official @reactor-team/js-sdk 2.9.0 into one ESM file for a plain page.
// process.env.NODE_ENV must be defined: the SDK reads it at call time and a page has no `process`.
import { build } from "esbuild";

await build({
  entryPoints: ["page.js"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  outfile: "dist/js29.bundle.mjs",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
