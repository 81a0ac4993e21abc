// Screenshots of the messenger parts of the operator app (setup forms, webhook panel, channel
// list, templates, template picker, reply window open/closed, failed message) in English and
// Russian, into $SHOTS (default /tmp/shots). Not a test: `node --import tsx e2e/messenger-shots.ts`.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { FakeProvider, IG, TG, WA, igText, metaHook, waText } from './fakeProvider';
import { ADMIN, Charla, launch, newContext } from './harness';

const dir = process.env.SHOTS ?? '/tmp/shots';
mkdirSync(dir, { recursive: true });

const server = new Charla();
const fake = new FakeProvider();
await server.start();
await fake.start();
let browser: Browser | undefined;
try {
  const me = await server.api('GET', '/auth/me');
  const wa = await server.api('POST', '/channels', { kind: 'whatsapp', name: 'WhatsApp ventas', phone_number_id: WA.phoneNumberId, access_token: WA.token, app_secret: WA.appSecret, business_account_id: WA.waba, api_base_url: fake.url });
  const tg = await server.api('POST', '/channels', { kind: 'telegram', name: 'Bot de soporte', bot_token: TG.botToken, api_base_url: fake.url });
  const ig = await server.api('POST', '/channels', { kind: 'instagram', name: 'Instagram tienda', page_id: IG.pageId, access_token: IG.token, app_secret: IG.appSecret, api_base_url: fake.url });
  const api = await server.createApiChannel('Web shop API', [me.id]);
  for (const c of [wa, tg, ig]) {
    await server.api('PUT', `/channels/${c.id}/members`, { user_ids: [me.id] });
    await server.api('POST', `/channels/${c.id}/test-connection`, { webhook_base_url: server.base });
  }
  fake.script('wa.templates', {
    status: 200,
    body: {
      data: [
        { name: 'pedido_listo', language: 'es', status: 'APPROVED', category: 'UTILITY', id: 't1', components: [{ type: 'BODY', text: 'Hola {{1}}, tu pedido {{2}} está listo para recoger en nuestra tienda de {{3}}.' }] },
        { name: 'recordatorio_cita', language: 'es', status: 'APPROVED', category: 'UTILITY', id: 't4', components: [{ type: 'BODY', text: 'Hola {{1}}, te recordamos tu cita del {{2}}. Responde a este mensaje si necesitas cambiarla.' }] },
        { name: 'order_ready', language: 'en_US', status: 'APPROVED', category: 'UTILITY', id: 't5', components: [{ type: 'BODY', text: 'Hi {{1}}, your order {{2}} is ready for pick-up.' }] },
        { name: 'oferta', language: 'es', status: 'PENDING', category: 'MARKETING', id: 't2', components: [{ type: 'BODY', text: 'Esta semana, {{1}} de descuento en toda la tienda.' }] },
        { name: 'bienvenida', language: 'es', status: 'REJECTED', category: 'MARKETING', id: 't3', rejected_reason: 'INVALID_FORMAT', components: [{ type: 'BODY', text: '¡Bienvenido!' }] },
      ],
      paging: { cursors: { before: '', after: '' } },
    },
  });
  await server.api('POST', `/channels/${wa.id}/templates/sync`, {});
  await server.api('POST', `/channels/${tg.id}/templates`, { name: 'gracias', language: 'es', body: '¡Gracias por escribirnos, {{1}}! Te respondemos enseguida.', category: 'utility' });

  await metaHook(server.base, `/hooks/whatsapp/${wa.id}`, WA.appSecret, waText('wamid.s1', '34600111222', 'Lucía Gómez', 'Hola, ¿está listo mi pedido A-1042?'));
  await metaHook(server.base, `/hooks/instagram/${ig.id}`, IG.appSecret, igText('mid.s1', 'igsid-42', '¿Tenéis la talla M en azul?'));
  await server.inbound(api, { external_id: 'c1', name: 'John Carter' }, 'My order #4521 has not arrived yet');
  const waConv = (await server.api('GET', `/conversations?channel_id=${wa.id}`)).items[0].id;
  const igConv = (await server.api('GET', `/conversations?channel_id=${ig.id}`)).items[0].id;
  await server.api('POST', `/conversations/${waConv}/messages`, { text: '¡Hola Lucía! Lo miro ahora mismo.' });
  fake.script('wa.send', { status: 400, body: { error: { message: 'Message Undeliverable.', code: 131026 } } });
  await server.api('POST', `/conversations/${waConv}/messages`, { text: 'Ya está preparado 📦' });
  await fake.wait('wa.send', 2);
  await new Promise((r) => setTimeout(r, 800));

  browser = await launch();
  const settle = (p: Page) => p.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
  const shot = async (p: Page, name: string, clip?: { x: number; y: number; width: number; height: number }) => {
    await settle(p);
    await p.screenshot({ path: `${dir}/${name}.png`, clip });
  };

  const langs = (process.env.SHOT_LANGS ?? 'en,ru').split(',') as ('en' | 'es' | 'ru')[];
  for (const lang of langs) {
    const ctx = await newContext(browser, { en: 'en-US', es: 'es-ES', ru: 'ru-RU' }[lang]);
    const page = await ctx.newPage();
    if (process.env.SHOT_WIDTH) await page.setViewportSize({ width: Number(process.env.SHOT_WIDTH), height: 760 });
    page.setDefaultTimeout(15000);
    await page.clock.install();
    await page.goto(server.base + '/');
    await page.fill('input[name=email]', ADMIN.email);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=section-all]');

    // Settings: list, kind choice, a form per kind, the webhook panel.
    await page.goto(server.base + '/settings/channels');
    await page.waitForSelector('.item-card');
    await shot(page, `msgr-${lang}-channels`);
    await page.click('[data-testid=new-channel]');
    await shot(page, `msgr-${lang}-kinds`);
    for (const kind of ['whatsapp', 'telegram', 'instagram']) {
      await page.click(`[data-testid=kind-${kind}]`);
      await page.waitForSelector('.messenger-form');
      await shot(page, `msgr-${lang}-form-${kind}`);
      await page.keyboard.press('Escape');
      await page.click('[data-testid=new-channel]');
    }
    await page.click('[data-testid=kind-whatsapp]');
    await page.fill('.modal input[name=name]', 'WhatsApp ' + lang);
    await page.fill('.modal input[name=phone_number_id]', WA.phoneNumberId);
    await page.fill('.modal input[name=access_token]', WA.token);
    await page.fill('.modal input[name=app_secret]', WA.appSecret);
    await page.click('.modal details.advanced summary');
    await page.fill('.modal input[name=api_base_url]', fake.url);
    await page.click('[data-testid=messenger-create]');
    await page.waitForSelector('[data-testid=connect-panel]');
    await page.click('[data-testid=test-connection]');
    await page.waitForSelector('[data-testid=connection-result]');
    await shot(page, `msgr-${lang}-webhook-panel`);
    await page.click('[data-testid=connect-done]');
    await page.locator('.item-card', { hasText: 'Bot de soporte' }).locator('[data-testid=channel-connect]').click();
    await page.click('[data-testid=test-connection]');
    await page.waitForSelector('[data-testid=connection-result]');
    await page.click('details.credentials summary');
    await shot(page, `msgr-${lang}-telegram-connection`);
    await page.keyboard.press('Escape');
    await page.locator('.item-card', { hasText: 'WhatsApp ventas' }).locator('[data-testid=channel-templates]').click();
    await page.waitForSelector('[data-testid=template-row]');
    await shot(page, `msgr-${lang}-templates`);
    await page.keyboard.press('Escape');
    await page.locator('.item-card', { hasText: 'Bot de soporte' }).locator('[data-testid=channel-templates]').click();
    await page.click('[data-testid=template-new]');
    await shot(page, `msgr-${lang}-templates-telegram`);
    await page.keyboard.press('Escape');

    // The inbox: icons, the reply window, the picker, a failed message.
    await page.goto(`${server.base}/conversations/${waConv}`);
    await page.waitForSelector('[data-testid=reply-window]');
    await page.locator('[data-status=failed]').hover();
    await shot(page, `msgr-${lang}-inbox-window-open`);
    await page.click('[data-testid=template-button]');
    await page.waitForSelector('[data-testid=template-option]');
    await shot(page, `msgr-${lang}-picker-list`);
    await page.click('[data-testid=template-option][data-name=pedido_listo]');
    await page.fill('input[name=param-1]', 'Lucía');
    await page.fill('input[name=param-2]', 'A-1042');
    await page.locator('input[name=param-3]').focus();
    await page.locator('input[name=param-2]').focus();
    await shot(page, `msgr-${lang}-picker-fill`);
    await page.keyboard.press('Escape');
    await page.clock.fastForward('25:00:00');
    await page.waitForSelector('[data-testid=reply-window][data-state=closed]');
    await shot(page, `msgr-${lang}-window-closed-whatsapp`);
    await page.goto(`${server.base}/conversations/${igConv}`);
    await page.waitForSelector('[data-testid=reply-window]');
    await page.clock.fastForward('25:00:00');
    await page.waitForSelector('[data-testid=reply-window][data-state=closed]');
    await shot(page, `msgr-${lang}-window-closed-instagram`);
    await ctx.close();
  }
  console.log('screenshots in ' + dir);
} finally {
  await browser?.close();
  fake.stop();
  await server.stop();
}
