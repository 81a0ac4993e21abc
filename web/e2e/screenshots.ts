// Seeds a realistic workspace and takes screenshots of the main screens into $SHOTS (default
// /tmp/shots). Not a test: `npm run shots`, for looking at the app.
import { mkdirSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { ADMIN, Charla, launch, newContext, row, signIn } from './harness';

const dir = process.env.SHOTS ?? '/tmp/shots';
mkdirSync(dir, { recursive: true });

const server = new Charla();
await server.start();
try {
  const me = await server.api('GET', '/auth/me');
  const bob = await server.createAgent('Bob Martínez', 'bob@example.com', 'bob-pass-1234', ['see_all_conversations']);
  const olga = await server.createAgent('Olga Ivanova', 'olga@example.com', 'olga-pass-1234');
  const shop = await server.createApiChannel('Web shop', [me.id, bob.id, olga.id]);
  const crm = await server.createApiChannel('CRM leads', [me.id, bob.id]);
  await server.api('POST', '/teams', { name: 'Support', member_ids: [bob.id, olga.id] });
  const vip = await server.api('POST', '/tags', { name: 'VIP', color: '#e11d48', pinned: true });
  const wholesale = await server.api('POST', '/tags', { name: 'wholesale', color: '#0ea5e9', pinned: true });
  await server.api('POST', '/tags', { name: 'newsletter', color: '#10b981' });
  await server.api('POST', '/close-reasons', { name: 'Resolved' });
  await server.api('POST', '/close-reasons', { name: 'Spam' });
  await server.api('POST', '/canned-responses', { shortcut: 'hello', text: 'Hello {{contact.name}}! How can I help you today?', personal: false });
  await server.api('POST', '/canned-responses', { shortcut: 'shipping', text: 'We ship to the whole of Spain, the Canary Islands included, in 2–4 working days.', personal: false });

  const people = [
    ['Ana García', '+34 600 123 456', 'Hola, ¿tenéis envío a Canarias?'],
    ['John Carter', '+1 415 555 0134', 'Hi! My order #4521 has not arrived yet, can you check?'],
    ['Мария Петрова', '+7 916 555 12 34', 'Здравствуйте! Можно оплатить при получении?'],
    ['Lucas Moreau', '+33 6 12 34 56 78', 'Do you have the blue one in size 42?'],
    ['Sofia Rossi', '+39 347 555 0199', 'Thanks a lot, received it today 🙌'],
    ['Kenji Tanaka', '+81 90 5555 0123', 'Is there a wholesale price for 200 units?'],
    ['Emma Schmidt', '+49 151 5555 0101', 'Can I change the delivery address?'],
    ['Pedro Alves', '+351 912 555 010', 'Preciso de uma fatura com NIF, por favor.'],
  ];
  const convs: number[] = [];
  for (const [i, [name, phone, text]] of people.entries()) {
    const ch = i % 3 === 2 ? crm : shop;
    const r = await server.inbound(ch, { external_id: 'p' + i, name, phone, email: name.split(' ')[0].toLowerCase() + '@mail.test' }, text);
    convs.push(r.conversation_id);
  }
  // Tags, assignments, a conversation with history.
  const c0 = await server.api('GET', `/conversations/${convs[0]}`);
  await server.api('PUT', `/contacts/${c0.contact.id}/tags`, { tag_ids: [vip.id] });
  await server.api('PATCH', `/contacts/${c0.contact.id}`, { custom_attributes: { plan: 'Gold', city: 'Las Palmas' }, telegram_username: 'ana_g' });
  const c5 = await server.api('GET', `/conversations/${convs[5]}`);
  await server.api('PUT', `/contacts/${c5.contact.id}/tags`, { tag_ids: [wholesale.id] });
  await server.api('POST', `/conversations/${convs[1]}/assign`, { user_id: bob.id });
  await server.api('POST', `/conversations/${convs[2]}/assign`, { user_id: olga.id });
  await server.api('POST', `/conversations/${convs[0]}/assign`, { user_id: me.id });
  const m1 = await server.api('POST', `/conversations/${convs[0]}/messages`, { text: '¡Hola Ana! Sí, enviamos a Canarias en 2–4 días laborables.' });
  await server.api('POST', `/conversations/${convs[0]}/messages`, { text: 'She ordered twice last month — offer free shipping.', kind: 'note' });
  await server.inbound(shop, { external_id: 'p0', name: 'Ana García' }, 'Perfecto, ¿y el coste del envío?');
  const m2 = await server.api('POST', `/conversations/${convs[0]}/messages`, { text: 'Para ti el envío es gratis 🎁', reply_to: m1.id });
  // A picture from the customer.
  const ctx0 = await newContext(await launch());
  const pic = await ctx0.newPage();
  await pic.setViewportSize({ width: 480, height: 300 });
  await pic.setContent('<body style="margin:0;background:linear-gradient(135deg,#6366f1,#ec4899);height:300px;display:flex;align-items:center;justify-content:center;font:700 40px system-ui;color:#fff">📦 Pedido #4521</body>');
  const png = await pic.screenshot();
  await ctx0.browser()!.close();
  const body = JSON.stringify({ message_id: 'pic-1', contact: { external_id: 'p0', name: 'Ana García' }, text: 'Esta es la caja que recibí', attachments: [{ name: 'caja.png', data_base64: png.toString('base64') }] });
  await fetch(`${server.base}/hooks/api/${shop.id}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Charla-Signature': 'sha256=' + createHmac('sha256', shop.secret).update(body).digest('hex') },
    body,
  });
  for (let i = 0; i < 60 && !server.delivered.length; i++) await new Promise((r) => setTimeout(r, 100));
  await server.status(shop, m1.id, 'read');
  await server.status(shop, m2.id, 'failed', 'The customer closed the chat window');

  const browser = await launch();
  const shot = async (page: import('playwright-core').Page, name: string) => {
    // Let pop-in/fade animations finish so the picture shows what a person sees.
    await page.evaluate(() => Promise.all(document.getAnimations().filter((a) => a.effect?.getTiming().iterations !== Infinity).map((a) => a.finished)));
    await page.screenshot({ path: `${dir}/${name}.png` });
    console.log(`${dir}/${name}.png`);
  };

  // Login.
  const loginCtx = await newContext(browser);
  const lp = await loginCtx.newPage();
  await lp.goto(server.base + '/');
  await lp.waitForSelector('input[name=email]');
  await shot(lp, 'login');

  const ctx = await newContext(browser);
  const page = await signIn(ctx, server.base, ADMIN.email, ADMIN.password);
  await row(page, 'Pedro Alves').waitFor();
  await shot(page, 'inbox');
  await row(page, 'Ana García').click();
  await page.waitForSelector('[data-testid=message] img');
  await page.waitForSelector('[data-testid=contact-panel] .contact-name');
  await page.fill('[data-testid=composer-input]', 'Te envío el código de seguimiento en cuanto salga');
  await shot(page, 'conversation');
  await page.click('[data-testid=emoji-button]');
  await page.waitForSelector('[data-testid=emoji-picker]');
  await page.waitForFunction(() => document.querySelector('.pop')?.getAnimations().every((a) => a.playState === 'finished'));
  await shot(page, 'composer-emoji');
  await page.keyboard.press('Escape');
  await page.fill('[data-testid=composer-input]', '');
  await page.type('[data-testid=composer-input]', ':sh');
  await page.waitForSelector('.suggest-item');
  await shot(page, 'composer-canned');
  await page.fill('[data-testid=composer-input]', '');
  // The search with its tabs: everywhere, then contacts only.
  await page.fill('#search', 'wholesale');
  await page.waitForSelector('[data-testid=search-in-contacts]');
  await row(page, 'Kenji Tanaka').waitFor();
  await shot(page, 'search-everywhere');
  await page.click('[data-testid=search-in-messages]');
  await row(page, 'Kenji Tanaka').waitFor();
  await shot(page, 'search-messages');
  await page.click('[data-testid=search-in-all]');
  await page.fill('#search', '');
  await page.click('[data-testid=filters]');
  await page.waitForSelector('.filter-panel');
  await shot(page, 'filters');
  await page.keyboard.press('Escape');
  await page.click('[data-testid=more-actions]');
  await shot(page, 'actions-menu');
  await page.keyboard.press('Escape');
  await page.setViewportSize({ width: 1024, height: 720 });
  await shot(page, 'conversation-1024');
  await page.setViewportSize({ width: 1366, height: 860 });
  await page.goto(server.base + '/settings/users');
  await page.waitForSelector('.table');
  await shot(page, 'settings-users');
  await page.goto(server.base + '/settings/channels');
  await page.waitForSelector('.item-card');
  await shot(page, 'settings-channels');
  await page.click('[data-testid=user-menu]');
  await page.click('[data-testid=lang-es]');
  await page.waitForSelector('.topnav a:has-text("Bandeja")');
  await page.goto(server.base + `/conversations/${convs[0]}`);
  await page.waitForSelector('[data-testid=message]');
  await shot(page, 'conversation-es');
  await page.click('[data-testid=user-menu]');
  await page.click('[data-testid=lang-ru]');
  await page.waitForSelector('.topnav a:has-text("Диалоги")');
  await page.waitForSelector('[data-testid=message]');
  await shot(page, 'conversation-ru');
  await page.keyboard.press('?');
  await page.waitForSelector('[data-testid=shortcuts-help]');
  await shot(page, 'shortcuts-ru');
  await browser.close();
} finally {
  await server.stop();
}
