// Benchmark (prints figures, asserts nothing): N conversations (default 10,000) in the list,
// scrolled end to end in Chromium; frame times while scrolling; switching back to a
// conversation already seen. `npm run perf` (PERF_N=2000 for a quicker run).
import { ADMIN, Charla, launch, newContext, signIn } from './harness';

const N = Number(process.env.PERF_N ?? 10000);
const server = new Charla();
await server.start();
try {
  const me = await server.api('GET', '/auth/me');
  const ch = await server.createApiChannel('Load', [me.id]);
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        await server.inbound(ch, { external_id: 'perf-' + i, name: `Customer ${i}`, phone: `+34 600 ${String(i).padStart(6, '0')}` }, `Message number ${i}`);
      }
    }),
  );
  console.log(`seeded ${N} conversations in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const browser = await launch();
  const ctx = await newContext(browser);
  // tsx keeps function names with a `__name` helper that evaluated functions lack in the page.
  await ctx.addInitScript('window.__name = (f) => f');
  const t1 = Date.now();
  const page = await signIn(ctx, server.base, ADMIN.email, ADMIN.password);
  await page.waitForSelector('[data-testid=conv-row]');
  console.log(`first rows shown ${Date.now() - t1} ms after submitting the login form`);

  // Scroll to the end, page by page, as infinite scroll loads more.
  const t2 = Date.now();
  const loaded = await page.evaluate(async (n) => {
    const list = document.querySelector('.vlist') as HTMLElement;
    const rows = () => Number(list.querySelector('.vlist-inner')!.getAttribute('style')!.match(/height:\s*(\d+)/)![1]) / 84;
    for (let guard = 0; guard < 2000 && rows() < n; guard++) {
      list.scrollTop = list.scrollHeight;
      await new Promise((r) => setTimeout(r, 30));
    }
    return rows();
  }, N);
  console.log(`loaded ${loaded} rows by scrolling in ${((Date.now() - t2) / 1000).toFixed(1)} s`);

  // Frame times while scrolling through everything loaded, 120 px per frame.
  const frames = await page.evaluate(async () => {
    const list = document.querySelector('.vlist') as HTMLElement;
    list.scrollTop = 0;
    const times: number[] = [];
    let last = performance.now();
    while (list.scrollTop + list.clientHeight < list.scrollHeight - 2) {
      list.scrollTop += 120;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
      if (times.length > 20000) break;
    }
    times.sort((a, b) => a - b);
    return { n: times.length, p50: times[Math.floor(times.length * 0.5)], p95: times[Math.floor(times.length * 0.95)], max: times[times.length - 1], rowsInDom: document.querySelectorAll('.vrow').length };
  });
  console.log(`scroll: ${frames.n} frames, p50 ${frames.p50.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms, max ${frames.max.toFixed(1)} ms; rows in the DOM: ${frames.rowsInDom}`);

  // Switching to a conversation already seen.
  await page.evaluate(() => ((document.querySelector('.vlist') as HTMLElement).scrollTop = 0));
  const rowsEl = page.locator('[data-testid=conv-row]');
  await rowsEl.nth(0).click();
  await page.waitForSelector('[data-testid=message]');
  await rowsEl.nth(1).click();
  await page.waitForSelector('[data-testid=message]');
  const first = await rowsEl.nth(0).getAttribute('data-id');
  const ms = await page.evaluate(async (id) => {
    const t = performance.now();
    (document.querySelector(`[data-testid=conv-row][data-id="${id}"]`) as HTMLElement).click();
    while (!document.querySelector(`[data-testid=conversation][data-id="${id}"] [data-testid=message]`)) await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t;
  }, first);
  console.log(`switch back to a conversation already seen: ${ms.toFixed(1)} ms to show its messages`);
  await browser.close();
} finally {
  await server.stop();
}
