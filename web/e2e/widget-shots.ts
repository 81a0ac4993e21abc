// Screenshots of the website chat for review: `node --import tsx e2e/widget-shots.ts` → /tmp/shots.
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { Charla, launch } from './harness';

const server = new Charla();
await server.start();
mkdirSync('/tmp/shots', { recursive: true });
let snippet = '';
const site = createServer((_q, r) => {
  r.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  r.end(`<!doctype html><html><head><meta charset=utf-8><meta name=viewport content="width=device-width,initial-scale=1"><title>Shop</title>${snippet}
<style>body{font:16px Georgia,serif;margin:0;background:#fbf7f0}header{background:#333;color:#fff;padding:18px 32px;font-size:22px}main{padding:32px;max-width:700px}</style></head>
<body><header>Olivia's Olive Oil</header><main><h1>Extra virgin olive oil</h1><p>Cold-pressed in Jaén. Shipping to the whole of Spain, the Canaries included.</p></main></body></html>`);
});
await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
const siteUrl = `http://127.0.0.1:${(site.address() as any).port}`;
const ch = await server.api('POST', '/channels', { kind: 'website', name: "Olivia's shop", greeting: '¡Hola! How can we help you today?', website: { button_color: '#556b2f', header_color: '#556b2f', rules: [{ url_regex: '/promo', button: 'show_with_notification' }] } });
snippet = ch.embed_snippet;
await server.api('POST', `/livechat/channels/${ch.id}/join`);
const browser = await launch();
const shot = async (page: any, name: string) => page.screenshot({ path: `/tmp/shots/${name}.png` });

const v = await (await browser.newContext({ viewport: { width: 1100, height: 720 } })).newPage();
await v.goto(siteUrl + '/promo');
await v.waitForSelector('[data-testid=charla-bubble]');
await shot(v, 'widget-closed');
await v.click('[data-testid=charla-button]');
await v.waitForSelector('[data-testid=widget-panel]');
await shot(v, 'widget-open');
await v.fill('[data-testid=widget-input]', 'Hola! Do you ship to Tenerife?');
await v.click('[data-testid=widget-send]');
await v.waitForSelector('[data-testid=widget-msg]');
const convs = await server.api('GET', '/conversations?section=all');
const cid = convs.items[0].id;
await server.api('POST', `/conversations/${cid}/messages`, { text: 'Yes! Delivery to the Canaries takes 3–4 days.', client_msg_id: 'a1' });
await v.waitForSelector('[data-testid=widget-msg].op');
await v.fill('[data-testid=widget-input]', 'Great, thanks 😊');
await shot(v, 'widget-chatting');
await v.click('[data-testid=widget-end]');
await v.click('[data-rating=neutral]');
await v.fill('[data-testid=rate-comment]', 'Fine, but a bit slow to answer.');
await shot(v, 'widget-rating');

const phone = await (await browser.newContext({ viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true })).newPage();
await phone.goto(siteUrl + '/');
await phone.waitForSelector('[data-testid=charla-button]');
await shot(phone, 'widget-phone-closed');
await phone.click('[data-testid=charla-button]');
await phone.waitForSelector('[data-testid=widget-panel]');
await phone.fill('[data-testid=widget-input]', 'Hello from my phone');
await phone.click('[data-testid=widget-send]');
await phone.waitForSelector('[data-testid=widget-msg]');
await shot(phone, 'widget-phone-open');
const page = await (await browser.newContext({ viewport: { width: 420, height: 760 } })).newPage();
await page.goto(ch.chat_link);
await page.waitForSelector('[data-testid=widget-panel]');
await shot(page, 'widget-chat-link');
await browser.close();
await server.stop();
site.close();
console.log('saved to /tmp/shots');
