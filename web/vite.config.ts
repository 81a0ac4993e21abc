import { defineConfig, type Plugin } from 'vite';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** First-load budget (gzipped JS + CSS referenced by index.html), DESIGN/issue #4. */
const BUDGET_KB = 150;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * After the build: writes .br and .gz next to text assets (the server sends them to clients that
 * accept them) and prints the first-load size, failing the build over budget.
 */
function compressAndReport(): Plugin {
  let outDir = 'dist';
  return {
    name: 'charla-compress-and-report',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      const files = walk(outDir).filter((f) => /\.(js|css|html|svg|json|webmanifest)$/.test(f));
      for (const f of files) {
        const data = readFileSync(f);
        if (data.length < 1024) continue;
        writeFileSync(f + '.gz', gzipSync(data, { level: 9 }));
        writeFileSync(
          f + '.br',
          brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
      const html = readFileSync(join(outDir, 'index.html'), 'utf8');
      const refs = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
      let js = 0;
      let css = 0;
      for (const r of refs) {
        const gz = gzipSync(readFileSync(join(outDir, r)), { level: 9 }).length;
        if (r.endsWith('.css')) css += gz;
        else js += gz;
      }
      const kb = (n: number) => (n / 1024).toFixed(1);
      const lazy = walk(join(outDir, 'assets'))
        .filter((f) => /\.js$/.test(f) && !refs.includes(relative(outDir, f)))
        .map((f) => `${relative(outDir, f)} ${kb(gzipSync(readFileSync(f), { level: 9 }).length)} KB`);
      const total = js + css;
      console.log(
        `\ncharla web: first load ${kb(total)} KB gzipped (JS ${kb(js)} KB + CSS ${kb(css)} KB), budget ${BUDGET_KB} KB` +
          (lazy.length ? `\ncharla web: loaded on demand: ${lazy.join(', ')}` : ''),
      );
      if (total > BUDGET_KB * 1024) {
        throw new Error(`first load ${kb(total)} KB gzipped is over the ${BUDGET_KB} KB budget`);
      }
    },
  };
}

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
  plugins: [compressAndReport()],
  server: {
    proxy: {
      '/api': { target: process.env.CHARLA_URL ?? 'http://127.0.0.1:8080', ws: true },
      '/hooks': process.env.CHARLA_URL ?? 'http://127.0.0.1:8080',
    },
  },
});
