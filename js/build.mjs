// Bundle js/src into one ESM for anywidget and stamp it with a hash of the sources,
// so tests can tell a stale bundle from a fresh one (tests/widget/test_widget_bundle.py).
// `node build.mjs --outdir DIR` writes elsewhere: the test builds into a temporary folder and
// compares the result byte for byte with the committed reactor_notebook/widget/static.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const srcDir = join(here, "src");
const outFlag = process.argv.indexOf("--outdir");
const outDir = outFlag >= 0 ? resolve(process.argv[outFlag + 1]) : join(here, "..", "reactor_notebook", "widget", "static");

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

// Same algorithm as reactor_notebook/widget/bundle.py: sha256 over "relpath\0content\0", sorted by relpath.
export function sourceHash() {
  const h = createHash("sha256");
  const files = walk(srcDir).map((p) => [relative(srcDir, p).split(sep).join("/"), p]);
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [rel, p] of files) {
    h.update(rel + "\0");
    h.update(readFileSync(p));
    h.update("\0");
  }
  return h.digest("hex");
}

const hash = sourceHash();
const banner = `/* reactor_notebook widget | source-sha256: ${hash} | built from js/src by js/build.mjs; do not edit */`;
mkdirSync(outDir, { recursive: true });
await build({
  absWorkingDir: here, // path comments in the bundle are relative to js/, whatever the cwd
  entryPoints: [join(srcDir, "index.js")],
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: false,
  legalComments: "none",
  banner: { js: banner },
  outfile: join(outDir, "widget.js"),
  logLevel: "warning",
});
writeFileSync(join(outDir, "widget.css"), banner + "\n" + readFileSync(join(srcDir, "widget.css"), "utf8"));
console.log(`built widget.js + widget.css (source-sha256 ${hash.slice(0, 12)})`);
