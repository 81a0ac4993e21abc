// End-to-end tests of the website chat: a test site carrying the one-line snippet, visitors in
// their own browser contexts, operators in the app, a GeoIP database and an SMTP sink made here.
// Every wait is on what a page shows or a server answer, never a fixed sleep.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createTcp, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Charla, launch, newContext, row, signIn, ADMIN } from './harness';
import { writeCountryDb } from './mmdb';

const server = new Charla();
let browser: Browser;
let site: Server;
let siteUrl = '';
let smtp: TcpServer;
const mails: string[] = [];
let channel: any;
let admin: Page;

/** A minimal SMTP server that keeps what it receives. */
function smtpSink(): Promise<number> {
  smtp = createTcp((sock) => {
    let buf = '';
    let data = false;
    let mail = '';
    sock.write('220 sink ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data) {
          if (line === '.') {
            data = false;
            mails.push(mail);
            mail = '';
            sock.write('250 OK queued\r\n');
          } else mail += line + '\n';
          continue;
        }
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO') sock.write('250-sink\r\n250 8BITMIME\r\n');
        else if (cmd === 'HELO') sock.write('250 sink\r\n');
        else if (cmd === 'DATA') {
          data = true;
          sock.write('354 go ahead\r\n');
        } else if (cmd === 'QUIT') {
          sock.write('221 bye\r\n');
          sock.end();
        } else sock.write('250 OK\r\n');
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((r) => smtp.listen(0, '127.0.0.1', () => r((smtp.address() as any).port)));
}

/** The company's website: a few pages carrying the snippet. */
function startSite(snippet: () => string): Promise<void> {
  site = createHttp((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const title = { '/': 'Home', '/contactus': 'Contact us', '/promo': 'Promo', '/pricing': 'Pricing' }[path] ?? 'Page';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><html><head><meta charset=utf-8><title>${title}</title>${snippet()}` +
        `<style>body{font:16px sans-serif;margin:40px} .chat{color:red}</style></head>` +
        `<body><h1 id=h>${title}</h1><p class=chat>The shop's own page.</p><a href="/pricing">Pricing</a></body></html>`,
    );
  });
  return new Promise((r) =>
    site.listen(0, '127.0.0.1', () => {
      siteUrl = `http://127.0.0.1:${(site.address() as any).port}`;
      r();
    }),
  );
}

/** A visitor's browser; `ip` is the address the server sees (through a trusted proxy's header,
 * added on the wire so the page's requests stay simple CORS requests). */
async function visitor(opts: { ip?: string; width?: number } = {}): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: 800 } });
  if (opts.ip) {
    await ctx.route(server.base + '/**', (r) => r.continue({ headers: { ...r.request().headers(), 'x-forwarded-for': opts.ip! } }));
  }
  return ctx;
}

async function openSite(ctx: BrowserContext, path = '/'): Promise<Page> {
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  const visited = page.waitForResponse((r) => r.url().includes('/visit'));
  await page.goto(siteUrl + path);
  assert.equal((await visited).status(), 200);
  return page;
}

const msgs = (page: Page) => page.locator('[data-testid=widget-msg] .tx');

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'charla-geo-'));
  const geo = join(dir, 'country.mmdb');
  writeCountryDb(geo, { '81.0.0.0/8': 'ES', '82.0.0.0/8': 'FR' });
  const port = await smtpSink();
  process.env.CHARLA_GEOIP_DB = geo;
  process.env.CHARLA_SMTP_URL = `smtp://127.0.0.1:${port}`;
  process.env.CHARLA_SMTP_FROM = 'Shop <chat@shop.test>';
  process.env.CHARLA_TRUST_PROXY = 'true';
  await server.start();
  await startSite(() => channel?.embed_snippet ?? '');
  channel = await server.api('POST', '/channels', {
    kind: 'website',
    name: 'Shop site',
    greeting: 'Hi! How can we help?',
    website: {
      allowed_origins: [siteUrl],
      header_color: '#2d6cdf',
      button_color: '#2d6cdf',
      rules: [
        { url_regex: '/contactus', button: 'open_automatically', auto_open_after_secs: 2 },
        { countries: ['FR'], button: 'hide' },
        { url_regex: '/promo', button: 'show_with_notification' },
      ],
    },
  });
  assert.match(channel.embed_snippet, /^<script type="module" async src="http:\/\/127\.0\.0\.1:\d+\/widget\.js\?channel=\d+"><\/script>$/);
  browser = await launch();
  admin = await signIn(await newContext(browser), server.base, ADMIN.email, ADMIN.password);
  await server.api('POST', `/livechat/channels/${channel.id}/join`);
});

after(async () => {
  await browser?.close();
  await server.stop();
  site?.close();
  smtp?.close();
});

describe('website chat', () => {
  test('a visitor and an operator chat live; history survives a reload; offline messages are sent once', async () => {
    const vctx = await visitor({ ip: '81.2.3.4' });
    const v = await openSite(vctx);
    // The widget is in a shadow root: the page's own styles do not reach it.
    await v.click('[data-testid=charla-button]');
    await v.waitForSelector('[data-testid=widget-panel]');
    await v.fill('[data-testid=widget-input]', 'Hola, ¿tenéis envío a Canarias? <b>x</b>');
    await v.click('[data-testid=widget-send]');
    await v.waitForSelector('[data-testid=widget-msg]:has-text("Canarias")');

    // The operator sees it arrive and answers.
    await row(admin, 'Visitor #').first().waitFor();
    await row(admin, 'Visitor #').first().click();
    await admin.waitForSelector('text=Hola, ¿tenéis envío a Canarias? <b>x</b>');
    const composer = admin.locator('textarea').first();
    await composer.fill('¡Sí! Enviamos a Canarias.');
    await v.waitForSelector('[data-testid=widget-typing]');
    await composer.press('Enter');
    await v.waitForSelector('[data-testid=widget-msg]:has-text("Enviamos a Canarias")');
    assert.match(await v.locator('[data-testid=widget-msg].op .who').last().textContent() ?? '', /Ada Admin/);

    // The operator's message is read by the visitor (the chat is open and visible).
    const conv = (await server.api('GET', '/conversations?section=all')).items.find((c: any) => c.channel_id === channel.id);
    await waitFor(async () => {
      const list = (await server.api('GET', `/conversations/${conv.id}/messages`)).items ?? [];
      return list.some((m: any) => m.kind === 'outbound' && m.status === 'read');
    }, 'the reply marked read');

    // Reloading keeps the visitor and the history (the chat reopens where it was).
    await v.reload();
    await v.waitForSelector('[data-testid=widget-msg]:has-text("Enviamos a Canarias")');
    assert.equal(await msgs(v).count(), 2);

    // Offline: the message waits, then goes once when the connection is back.
    await vctx.setOffline(true);
    await v.fill('[data-testid=widget-input]', 'Sent while offline');
    await v.click('[data-testid=widget-send]');
    await v.waitForSelector('[data-testid=widget-pending]:has-text("Sent while offline")');
    await vctx.setOffline(false);
    await v.waitForSelector('[data-testid=widget-msg]:has-text("Sent while offline")');
    await admin.waitForSelector('text=Sent while offline');
    const all = (await server.api('GET', `/conversations/${conv.id}/messages`)).items ?? [];
    assert.equal(all.filter((m: any) => m.text === 'Sent while offline').length, 1, 'sent exactly once');
    assert.equal(await v.locator('[data-testid=widget-msg]:has-text("Sent while offline")').count(), 1);
    assert.equal(await v.locator('[data-testid=widget-pending]').count(), 0);
    await vctx.close();
  });

  test('rules: open automatically on /contactus, hidden for France, a bubble on /promo', async () => {
    const es = await visitor({ ip: '81.9.9.9' });
    const p = await openSite(es, '/contactus');
    const t0 = Date.now();
    await p.waitForSelector('[data-testid=widget-panel]', { timeout: 10000 });
    assert.ok(Date.now() - t0 >= 1500, 'opened after about 2 seconds');
    const promo = await openSite(await visitor({ ip: '81.9.9.8' }), '/promo');
    await promo.waitForSelector('[data-testid=charla-bubble]');
    const fr = await openSite(await visitor({ ip: '82.1.1.1' }), '/');
    await fr.waitForLoadState('networkidle');
    assert.equal(await fr.locator('[data-charla-widget]').count(), 0, 'no widget for France');
    const frContact = await openSite(await visitor({ ip: '82.1.1.2' }), '/contactus');
    await frContact.waitForSelector('[data-testid=widget-panel]');
  });

  test('the visitor rates the chat; the operator sees it; the transcript is mailed', async () => {
    const vctx = await visitor({ ip: '81.5.5.5' });
    const v = await openSite(vctx, '/pricing');
    await v.click('[data-testid=charla-button]');
    await v.fill('[data-testid=widget-input]', 'Question about prices');
    await v.click('[data-testid=widget-send]');
    await v.waitForSelector('[data-testid=widget-msg]:has-text("Question about prices")');
    await v.click('[data-testid=widget-end]');
    await v.click('[data-rating=dissatisfied]');
    await v.fill('[data-testid=rate-comment]', 'Still waiting for an answer!');
    await v.click('text=Send feedback');
    await v.waitForSelector('text=Thank you for your feedback');
    await v.fill('[data-testid=widget-rate] input[type=email]', 'ana@example.com');
    await v.click('[data-testid=widget-rate] .copy button');
    await v.waitForSelector('text=Sent ✓');
    await waitFor(async () => mails.some((m) => m.includes('Question about prices')), 'the transcript mail');
    const mail = mails.find((m) => m.includes('Question about prices'))!;
    assert.match(mail, /To: ana@example.com/i);

    await row(admin, 'Visitor #').first().waitFor();
    const convs = (await server.api('GET', '/conversations?section=all&status=closed')).items;
    const conv = convs.find((c: any) => c.channel_id === channel.id);
    assert.ok(conv, 'the chat is closed');
    const lines = (await server.api('GET', `/conversations/${conv.id}/messages`)).items;
    assert.ok(lines.some((m: any) => m.kind === 'event' && /Still waiting for an answer!/.test(m.text)), 'rating line');
    const atts = await server.api('GET', `/conversations/${conv.id}/attentions`);
    const rated = (atts.items ?? atts).find((a: any) => a.rating);
    assert.equal(rated.rating, 'dissatisfied');
    assert.equal(rated.rating_comment, 'Still waiting for an answer!');

    // The public ratings page: off by default, then the share without the comment; a hidden
    // rating leaves it.
    assert.equal((await fetch(`${server.base}/ratings/${channel.id}`)).status, 404);
    await server.api('PATCH', `/channels/${channel.id}`, { website: { ratings_page_public: true } });
    let html = await (await fetch(`${server.base}/ratings/${channel.id}`)).text();
    assert.match(html, /100\.0%/);
    assert.doesNotMatch(html, /Still waiting/);
    await server.api('POST', `/conversations/${conv.id}/rating-visibility`, { attention_id: rated.id, hidden: true });
    html = await (await fetch(`${server.base}/ratings/${channel.id}`)).text();
    assert.match(html, /0 ratings/);
    await vctx.close();
  });

  test('operator app: snippet and link with copy buttons, join/leave, page views, /history, ratings', async () => {
    await admin.goto(server.base + '/settings/channels');
    await admin.click(`text=Shop site >> xpath=ancestor::div[contains(@class,"item-card")]//button`);
    await admin.waitForSelector('[data-testid=embed-snippet]');
    assert.equal(await admin.textContent('[data-testid=embed-snippet]'), channel.embed_snippet);
    assert.equal(await admin.textContent('[data-testid=chat-link]'), channel.chat_link);
    await admin.click('[data-testid=embed-snippet-copy]');
    await admin.waitForSelector('[data-testid=embed-snippet-copy]:has-text("Copied")');
    await admin.screenshot({ path: '/tmp/shots/operator-website-settings.png' });
    await admin.keyboard.press('Escape');

    await admin.goto(server.base + '/settings/livechat');
    const card = admin.locator('[data-testid=livechat-channel]', { hasText: 'Shop site' });
    await card.locator('[data-testid=livechat-leave]').click();
    await card.locator('[data-testid=livechat-join]').waitFor();
    assert.ok(!(await server.api('GET', `/channels/${channel.id}`)).member_ids.includes(1));
    await card.locator('[data-testid=livechat-join]').click();
    await card.locator('[data-testid=livechat-leave]').waitFor();

    // The contact panel shows the visitor's pages; /history posts them as a note.
    const vctx = await visitor({ ip: '81.7.7.7' });
    const v = await openSite(vctx, '/pricing');
    await v.goto(siteUrl + '/promo');
    await v.click('[data-testid=charla-button]');
    await v.fill('[data-testid=widget-input]', 'Where is my order?');
    await v.click('[data-testid=widget-send]');
    await v.waitForSelector('[data-testid=widget-msg]:has-text("Where is my order")');
    await admin.goto(server.base + '/');
    await row(admin, 'Where is my order?').first().click();
    await admin.waitForSelector('.message >> text=Where is my order?').catch(() => admin.waitForSelector('text=Where is my order?'));
    await admin.waitForSelector('[data-testid=page-views] >> text=Promo');
    await admin.locator('textarea').first().fill('/history');
    await admin.locator('textarea').first().press('Enter');
    await admin.waitForSelector('text=/Visitor.s history/');
    await admin.screenshot({ path: '/tmp/shots/operator-visitor-panel.png' });
    await v.screenshot({ path: '/tmp/shots/widget-chatting.png' });
    await vctx.close();
  });
});

async function waitFor(f: () => Promise<boolean>, what: string, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what);
}
