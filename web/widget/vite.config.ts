// The website chat widget: a separate, small build (`web/dist-widget`) embedded by the server
// (crates/charla-server/src/visitor/pages.rs) and served at /widget.js and /widget/assets/*.
// widget.js is the loader a page carries (button, rules, page views); the chat itself is a
// chunk it imports when the visitor opens it. The build prints both sizes and fails over budget.
import { defineConfig, type Plugin } from 'vite';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** What loads before the visitor opens the chat, gzipped (issue #5). */
const LOADER_BUDGET_KB = 15;
/** The whole chat (loader + chat chunks), gzipped. */
const TOTAL_BUDGET_KB = 40;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function compressAndReport(): Plugin {
  let outDir = 'dist-widget';
  return {
    name: 'charla-widget-report',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      const files = walk(outDir).filter((f) => f.endsWith('.js'));
      let loader = 0;
      let total = 0;
      const parts: string[] = [];
      for (const f of files) {
        const data = readFileSync(f);
        const gz = gzipSync(data, { level: 9 });
        writeFileSync(f + '.gz', gz);
        writeFileSync(f + '.br', brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        total += gz.length;
        if (relative(outDir, f) === 'widget.js') loader = gz.length;
        parts.push(`${relative(outDir, f)} ${(gz.length / 1024).toFixed(1)} KB`);
      }
      const kb = (n: number) => (n / 1024).toFixed(1);
      console.log(
        `\ncharla widget: before opening ${kb(loader)} KB gzipped (budget ${LOADER_BUDGET_KB} KB); ` +
          `whole chat ${kb(total)} KB gzipped (budget ${TOTAL_BUDGET_KB} KB)\ncharla widget: ${parts.join(', ')}`,
      );
      if (loader > LOADER_BUDGET_KB * 1024) throw new Error(`widget loader ${kb(loader)} KB is over ${LOADER_BUDGET_KB} KB`);
      if (total > TOTAL_BUDGET_KB * 1024) throw new Error(`widget ${kb(total)} KB is over ${TOTAL_BUDGET_KB} KB`);
    },
  };
}

export default defineConfig({
  root: resolve(import.meta.dirname),
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, '../dist-widget'),
    emptyOutDir: true,
    target: 'es2020',
    modulePreload: false,
    sourcemap: false,
    minify: true,
    reportCompressedSize: false,
    rollupOptions: {
      input: resolve(import.meta.dirname, 'loader.ts'),
      preserveEntrySignatures: 'strict',
      output: {
        format: 'es',
        entryFileNames: 'widget.js',
        chunkFileNames: 'widget/assets/[name]-[hash].js',
      },
    },
  },
  plugins: [compressAndReport()],
});
