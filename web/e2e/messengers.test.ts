// End-to-end tests of the operator app's messenger parts (issue #6, item 9) against a real
// server and a fake provider: channel setup forms with the webhook URL to copy and the
// connection test, channel icons, the reply-window indicator, the template picker, and the
// reason of a failed message. Every wait is on what the page shows or the provider receives.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeProvider, IG, TG, WA, igText, metaHook, waText } from './fakeProvider';
import { ADMIN, Charla, launch, newContext, row, signIn } from './harness';

const server = new Charla();
const fake = new FakeProvider();
let browser: Browser;
let ctx: BrowserContext;
let admin: Page;
let waChannel = 0;
let waConv = 0;

const text = async (page: Page, sel: string) => ((await page.locator(sel).first().textContent()) ?? '').trim();

async function openChannelsSettings(page: Page) {
  await page.goto(server.base + '/settings/channels');
  await page.waitForSelector('[data-testid=new-channel]');
}

/** Settings → Channels → New channel → `kind`, then the common fields. */
async function startSetup(page: Page, kind: string, name: string) {
  await openChannelsSettings(page);
  await page.click('[data-testid=new-channel]');
  await page.click(`[data-testid=kind-${kind}]`);
  await page.waitForSelector(`.messenger-form[data-kind=${kind}]`);
  await page.fill('.modal input[name=name]', name);
}

async function setApiBase(page: Page) {
  await page.click('.modal details.advanced summary');
  await page.fill('.modal input[name=api_base_url]', fake.url);
}

before(async () => {
  await server.start();
  await fake.start();
  browser = await launch();
  ctx = await newContext(browser);
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  admin = await signIn(ctx, server.base, ADMIN.email, ADMIN.password);
});

after(async () => {
  await browser?.close();
  fake.stop();
  await server.stop();
});

describe('messenger channels in the operator app', () => {
  test('WhatsApp setup form: webhook URL and verify token to copy, test connection', async () => {
    await startSetup(admin, 'whatsapp', 'WhatsApp ventas');
    await admin.fill('.modal input[name=phone_number_id]', WA.phoneNumberId);
    await admin.fill('.modal input[name=access_token]', WA.token);
    await admin.fill('.modal input[name=app_secret]', WA.appSecret);
    await admin.fill('.modal input[name=business_account_id]', WA.waba);
    await setApiBase(admin);
    await admin.click('[data-testid=messenger-create]');
    await admin.waitForSelector('[data-testid=connect-panel]');
    const channels = await server.api('GET', '/channels');
    waChannel = channels.find((c: any) => c.name === 'WhatsApp ventas').id;
    const url = `${server.base}/hooks/whatsapp/${waChannel}`;
    assert.equal(await text(admin, '[data-testid=webhook-url]'), url);
    // The copy button puts it on the clipboard.
    await admin.click('[data-testid=webhook-url-copy]');
    await admin.waitForSelector('[data-testid=webhook-url-copy]:has-text("Copied")');
    assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), url);
    // The generated verify token, shown once, is the one Meta's verification must carry.
    const verify = await text(admin, '[data-testid=verify-token]');
    assert.match(verify, /^[0-9a-f]{32,}$/);
    const challenge = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=${verify}&hub.challenge=4242`);
    assert.equal(await challenge.text(), '4242');
    // Test connection: the provider is asked with the access token.
    await admin.click('[data-testid=test-connection]');
    await admin.waitForSelector('[data-testid=connection-result][data-ok=true]:has-text("+1 555-000-1111")');
    assert.equal(fake.of('wa.phone')[0].headers.authorization, 'Bearer ' + WA.token);
    await admin.click('[data-testid=connect-done]');
    // The list shows the WhatsApp glyph and the number the test learnt.
    const card = admin.locator('.item-card', { hasText: 'WhatsApp ventas' });
    await card.locator('.ch-icon[data-kind=whatsapp]').waitFor();
    await card.locator('text=+1 555-000-1111').waitFor();
  });

  test('Telegram setup form: test connection registers the webhook', async () => {
    await startSetup(admin, 'telegram', 'Bot de soporte');
    await admin.fill('.modal input[name=bot_token]', TG.botToken);
    await setApiBase(admin);
    await admin.click('[data-testid=messenger-create]');
    await admin.waitForSelector('[data-testid=connect-panel]');
    const channels = await server.api('GET', '/channels');
    const id = channels.find((c: any) => c.name === 'Bot de soporte').id;
    const url = `${server.base}/hooks/telegram/${id}`;
    assert.equal(await text(admin, '[data-testid=webhook-url]'), url);
    assert.equal(await admin.locator('[data-testid=verify-token]').count(), 0, 'Telegram has no verify token');
    await admin.click('[data-testid=test-connection]');
    await admin.waitForSelector('[data-testid=connection-result][data-ok=true]:has-text("@charla_e2e_bot")');
    const set = (await fake.wait('tg.setWebhook'))[0].json();
    assert.equal(set.url, url);
    assert.match(set.secret_token, /^[0-9a-f]{32,}$/);
    assert.ok(fake.of('tg.getMe')[0].path.startsWith(`/bot${TG.botToken}/`));
    await admin.click('[data-testid=connect-done]');
    await admin.locator('.item-card', { hasText: 'Bot de soporte' }).locator('text=@charla_e2e_bot').waitFor();
  });

  test('a WhatsApp message arrives; the inbox shows the channel icon and the reply window', async () => {
    assert.equal(await metaHook(server.base, `/hooks/whatsapp/${waChannel}`, WA.appSecret, waText('wamid.e2e-1', '34600111222', 'Lucía Gómez', 'Hola, ¿está listo mi pedido?')), 200);
    await admin.goto(server.base + '/');
    await row(admin, 'Lucía Gómez').waitFor();
    await row(admin, 'Lucía Gómez').locator('.ch-icon[data-kind=whatsapp]').waitFor();
    await row(admin, 'Lucía Gómez').click();
    await admin.waitForSelector('[data-testid=conv-name]:has-text("Lucía Gómez")');
    waConv = Number(await admin.locator('[data-testid=conversation]').getAttribute('data-id'));
    await admin.locator('.conv-sub .ch-icon[data-kind=whatsapp]').waitFor();
    await admin.locator('[data-testid=message][data-kind=inbound]', { hasText: '¿está listo mi pedido?' }).waitFor();
    assert.match(await text(admin, '[data-testid=reply-window][data-state=open]'), /^Reply window: 2[34] h \d+ min left$/);
    assert.equal(await admin.locator('[data-testid=composer-input]').isEnabled(), true);
  });

  test('templates: synced in settings, picked in the composer, filled, sent to the provider', async () => {
    fake.script('wa.templates', {
      status: 200,
      body: {
        data: [
          { name: 'pedido_listo', language: 'es', status: 'APPROVED', category: 'UTILITY', id: 't1', components: [{ type: 'BODY', text: 'Hola {{1}}, tu pedido {{2}} está listo para recoger.' }] },
          { name: 'oferta', language: 'es', status: 'PENDING', category: 'MARKETING', id: 't2', components: [{ type: 'BODY', text: 'Oferta de la semana' }] },
          { name: 'bienvenida', language: 'es', status: 'REJECTED', category: 'MARKETING', id: 't3', rejected_reason: 'INVALID_FORMAT', components: [{ type: 'BODY', text: 'Hola' }] },
        ],
        paging: { cursors: { before: '', after: '' } },
      },
    });
    await openChannelsSettings(admin);
    await admin.locator('.item-card', { hasText: 'WhatsApp ventas' }).locator('[data-testid=channel-templates]').click();
    await admin.click('[data-testid=templates-sync]');
    await admin.waitForSelector('[data-testid=template-row][data-name=pedido_listo] [data-testid=template-status]:has-text("Approved")');
    await admin.waitForSelector('[data-testid=template-row][data-name=oferta] [data-testid=template-status]:has-text("Pending review")');
    await admin.waitForSelector('[data-testid=template-row][data-name=bienvenida]:has-text("INVALID_FORMAT")');
    assert.equal(fake.of('wa.templates')[0].path, `/v21.0/${WA.waba}/message_templates`);
    await admin.keyboard.press('Escape');

    await admin.goto(`${server.base}/conversations/${waConv}`);
    await admin.click('[data-testid=template-button]');
    await admin.waitForSelector('[data-testid=template-picker]');
    // The picker opens before its templates arrive: count the options once they are listed.
    await admin.waitForSelector('.tpl-foot:has-text("2 templates")');
    // Only approved templates are offered.
    assert.equal(await admin.locator('[data-testid=template-option]').count(), 1);
    await admin.click('[data-testid=template-option][data-name=pedido_listo]');
    const preview = '[data-testid=template-preview]';
    assert.equal(await text(admin, preview), 'Hola {{1}}, tu pedido {{2}} está listo para recoger.');
    await admin.fill('[data-testid=template-fill] input[name=param-1]', 'Lucía');
    assert.equal(await text(admin, preview), 'Hola Lucía, tu pedido {{2}} está listo para recoger.');
    await admin.fill('[data-testid=template-fill] input[name=param-2]', 'A-1042');
    assert.equal(await text(admin, preview), 'Hola Lucía, tu pedido A-1042 está listo para recoger.');
    await admin.click('[data-testid=template-send]');
    const msg = admin.locator('[data-testid=message][data-kind=outbound]', { hasText: 'Hola Lucía, tu pedido A-1042 está listo para recoger.' });
    await msg.waitFor();
    await msg.locator('[data-status=sent]').waitFor();
    const sent = (await fake.wait('wa.send'))[0].json();
    assert.equal(sent.type, 'template');
    assert.equal(sent.to, '34600111222');
    assert.deepEqual(sent.template.name, 'pedido_listo');
    assert.deepEqual(sent.template.language, { code: 'es' });
    assert.deepEqual(sent.template.components, [{ type: 'body', parameters: [{ type: 'text', text: 'Lucía' }, { type: 'text', text: 'A-1042' }] }]);
  });

  test('a failed send shows the red cross with the reason on hover', async () => {
    fake.script('wa.send', { status: 400, body: { error: { message: 'Message Undeliverable.', type: 'OAuthException', code: 131026 } } });
    await admin.fill('[data-testid=composer-input]', '¿Sigues ahí?');
    await admin.press('[data-testid=composer-input]', 'Enter');
    const msg = admin.locator('[data-testid=message][data-kind=outbound]', { hasText: '¿Sigues ahí?' });
    const cross = msg.locator('[data-status=failed]');
    await cross.waitFor();
    const tip = cross.locator('.tip');
    assert.equal(await tip.isVisible(), false);
    await cross.hover();
    await tip.waitFor({ state: 'visible' });
    assert.match((await tip.textContent()) ?? '', /^Not delivered: undeliverable/);
  });

  test('Instagram templates are written and deleted in settings', async () => {
    const ig = await server.api('POST', '/channels', { kind: 'instagram', name: 'Instagram tienda', page_id: IG.pageId, access_token: IG.token, app_secret: IG.appSecret, api_base_url: fake.url });
    await openChannelsSettings(admin);
    const card = admin.locator('.item-card', { hasText: 'Instagram tienda' });
    await card.locator('.ch-icon[data-kind=instagram]').waitFor();
    await card.locator('[data-testid=channel-templates]').click();
    await admin.click('[data-testid=template-new]');
    await admin.fill('[data-testid=template-form] input[name=name]', 'gracias');
    await admin.fill('[data-testid=template-form] input[name=language]', 'es');
    await admin.fill('[data-testid=template-form] textarea[name=body]', '¡Gracias por tu compra, {{1}}!');
    await admin.click('[data-testid=template-save]');
    await admin.waitForSelector('[data-testid=template-row][data-name=gracias]:has-text("Approved")');
    assert.equal((await server.api('GET', `/channels/${ig.id}/templates`)).length, 1);
    admin.once('dialog', (d) => d.accept());
    await admin.locator('[data-testid=template-row][data-name=gracias] button[aria-label^="Delete"]').click();
    await admin.waitForSelector('[data-testid=template-row][data-name=gracias]', { state: 'detached' });
    assert.equal((await server.api('GET', `/channels/${ig.id}/templates`)).length, 0);
    await admin.keyboard.press('Escape');
    assert.equal(await metaHook(server.base, `/hooks/instagram/${ig.id}`, IG.appSecret, igText('mid.e2e-1', 'igsid-42', '¿Tenéis la talla M?')), 200);
  });

  test('the window closes: WhatsApp offers only templates, Instagram no reply (clock moved on)', async () => {
    const ctx2 = await newContext(browser);
    const page = await ctx2.newPage();
    page.setDefaultTimeout(15000);
    await page.clock.install();
    await page.goto(server.base + '/');
    await page.fill('input[name=email]', ADMIN.email);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=section-all]');
    await page.goto(`${server.base}/conversations/${waConv}`);
    const ind = '[data-testid=reply-window]';
    await page.waitForSelector(ind + '[data-state=open]');
    // Updated every minute.
    const before = await text(page, ind);
    await page.clock.fastForward('01:00');
    await page.waitForFunction(([sel, b]) => document.querySelector(sel)?.textContent?.trim() !== b, [ind, before] as const);
    const minutes = (s: string) => {
      const m = s.match(/(\d+) h (\d+) min/);
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    };
    assert.ok(minutes(await text(page, ind)) < minutes(before), `${before} → ${await text(page, ind)}`);
    // A day later: free text is closed, the template picker is what to use.
    await page.clock.fastForward('25:00:00');
    await page.waitForSelector(ind + '[data-state=closed]:has-text("Window closed — send a template")');
    assert.equal(await page.locator('[data-testid=composer-input]').isDisabled(), true);
    await page.waitForSelector('[data-testid=window-warning]:has-text("WhatsApp accepts only a template")');
    await page.waitForSelector('[data-testid=template-button].tpl-highlight:has-text("Templates")');
    assert.equal(await page.locator('[data-testid=template-button]').isEnabled(), true);
    // Internal notes are still possible.
    await page.click('[data-testid=mode-note]');
    assert.equal(await page.locator('[data-testid=composer-input]').isEnabled(), true);
    await page.click('[data-testid=mode-reply]');
    // Instagram: nothing can be sent.
    await page.locator('[data-testid=conv-row]:has(.ch-icon[data-kind=instagram])').click();
    await page.waitForSelector(ind + '[data-state=closed]:has-text("Window closed — no reply possible")');
    await page.waitForSelector('[data-testid=window-warning]:has-text("Instagram accepts no reply")');
    assert.equal(await page.locator('[data-testid=composer-input]').isDisabled(), true);
    assert.equal(await page.locator('[data-testid=template-button]').isDisabled(), true);
    await ctx2.close();
  });
});
