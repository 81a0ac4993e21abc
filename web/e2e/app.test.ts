// End-to-end tests of the operator app against a real server, in Chromium.
// Every wait is on what the page shows (selectors, text), never a fixed sleep.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, Charla, launch, newContext, row, signIn, type Channel } from './harness';

const server = new Charla();
let browser: Browser;
let channel: Channel;
let bob: { id: number; email: string; password: string };
let carol: { id: number; email: string; password: string };
let admin: Page;

/** Waits until the element's text matches `re`, or (a number) is above `min`. */
async function waitForText(page: Page, selector: string, want: RegExp | { above: number }, what: string) {
  const arg = want instanceof RegExp ? { sel: selector, re: want.source, flags: want.flags, above: null } : { sel: selector, re: null, flags: '', above: want.above };
  try {
    await page.waitForFunction(
      (a) => {
        const el = document.querySelector(a.sel);
        if (!el) return false;
        const text = (el.textContent ?? '').trim();
        return a.re !== null ? new RegExp(a.re, a.flags).test(text) : Number(text) > (a.above as number);
      },
      arg,
      { timeout: 15000 },
    );
  } catch {
    const now = await page.locator(selector).first().textContent().catch(() => null);
    throw new Error(`${what}: ${selector} is ${JSON.stringify(now)}`);
  }
}

const num = async (page: Page, sel: string) => Number((await page.locator(sel).first().textContent())?.trim() || '0');

async function openConversation(page: Page, name: string) {
  await row(page, name).first().click();
  await page.waitForSelector(`[data-testid=conv-name]:has-text("${name}")`);
}

before(async () => {
  await server.start();
  const me = (await server.api('GET', '/auth/me')) as { id: number };
  bob = { ...(await server.createAgent('Bob Agent', 'bob@example.com', 'bob-pass-1234')), password: 'bob-pass-1234' };
  carol = { ...(await server.createAgent('Carol Agent', 'carol@example.com', 'carol-pass-1234')), password: 'carol-pass-1234' };
  channel = await server.createApiChannel('Shop CRM', [me.id, bob.id, carol.id]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server.stop();
});

describe('operator app', () => {
  test('log in (a wrong password is refused) and log out', async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    await page.goto(server.base + '/');
    await page.fill('input[name=email]', ADMIN.email);
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]:has-text("Wrong e-mail or password")');
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=section-all]');
    // The session survives a reload (cookie), and logging out ends it.
    await page.reload();
    await page.waitForSelector('[data-testid=user-menu]');
    await page.click('[data-testid=user-menu]');
    const loggedOut = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/logout'));
    await page.click('text=Log out');
    assert.equal((await loggedOut).status(), 204);
    await page.waitForSelector('input[name=email]');
    const me = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/me'));
    await page.reload();
    assert.equal((await me).status(), 401, 'no session after logging out');
    await page.waitForSelector('input[name=email]');
    await ctx.close();
  });

  test('an inbound message appears live, with an alert and raised counters', async () => {
    const ctx = await newContext(browser);
    admin = await signIn(ctx, server.base, ADMIN.email, ADMIN.password);
    await admin.waitForSelector('[data-testid=count-all]');
    const allBefore = await num(admin, '[data-testid=count-all]');
    const unassignedBefore = await num(admin, '[data-testid=count-unassigned]');
    const unreadBefore = await num(admin, '[data-testid=unread-total] .num');
    await server.inbound(channel, { external_id: 'c-ana', name: 'Ana Live', phone: '+34 600 123 456' }, 'Hola, ¿tenéis envío a Canarias?');
    await row(admin, 'Ana Live').waitFor();
    await admin.waitForSelector('[data-testid=toast]:has-text("tenéis envío a Canarias")');
    await waitForText(admin, '[data-testid=count-all]', { above: allBefore }, 'all counter');
    assert.ok((await num(admin, '[data-testid=count-unassigned]')) > unassignedBefore);
    await waitForText(admin, '[data-testid=unread-total] .num', { above: unreadBefore }, 'unread total');
    await admin.waitForFunction(() => /^\(\d+\) Charla$/.test(document.title));
    await row(admin, 'Ana Live').locator('[data-testid=unread-badge]').waitFor();
    await row(admin, 'Ana Live').locator('[data-testid=unanswered]').waitFor();
  });

  test('reply: the state goes to sent, then read', async () => {
    await openConversation(admin, 'Ana Live');
    // Opening it marks it read.
    await row(admin, 'Ana Live').locator('[data-testid=unread-badge]').waitFor({ state: 'detached' });
    await admin.fill('[data-testid=composer-input]', '¡Hola Ana! Sí, enviamos a Canarias.');
    await admin.press('[data-testid=composer-input]', 'Enter');
    const msg = admin.locator('[data-testid=message][data-kind=outbound]', { hasText: 'enviamos a Canarias' });
    await msg.waitFor();
    await msg.locator('[data-status=sent]').waitFor();
    // The sender's name is shown above the outgoing message.
    assert.match((await msg.locator('.msg-author').textContent()) ?? '', /Ada Admin/);
    assert.ok(server.delivered.some((d) => d.text === '¡Hola Ana! Sí, enviamos a Canarias.'), 'the integrator got the reply');
    const id = Number(await msg.getAttribute('data-id'));
    await server.status(channel, id, 'read');
    await msg.locator('[data-status=read]').waitFor();
  });

  test('a draft is kept on the server and survives a reload', async () => {
    const { conversation_id } = await server.inbound(channel, { external_id: 'c-dora', name: 'Dora Draft' }, 'Need an invoice');
    await openConversation(admin, 'Dora Draft');
    const saved = admin.waitForResponse((r) => r.url().endsWith(`/conversations/${conversation_id}/draft`) && r.request().method() === 'PUT');
    await admin.fill('[data-testid=composer-input]', 'Half-written answer about the invoice');
    await saved;
    await admin.reload();
    await admin.waitForSelector('[data-testid=composer-input]');
    await admin.waitForFunction(() => (document.querySelector('[data-testid=composer-input]') as HTMLTextAreaElement)?.value === 'Half-written answer about the invoice');
    await row(admin, 'Dora Draft').locator('.draft-label').waitFor();
  });

  test('reassign to another agent: the previous agent no longer sees it', async () => {
    const { conversation_id } = await server.inbound(channel, { external_id: 'c-rita', name: 'Rita Reassign' }, 'Can someone help?');
    await server.api('POST', `/conversations/${conversation_id}/assign`, { user_id: bob.id });
    const ctx = await newContext(browser);
    const bobPage = await signIn(ctx, server.base, bob.email, bob.password);
    await openConversation(bobPage, 'Rita Reassign');
    await bobPage.click('[data-testid=assign]');
    await bobPage.click(`[data-testid=assign-user-${carol.id}]`);
    await row(bobPage, 'Rita Reassign').waitFor({ state: 'detached' });
    await bobPage.waitForSelector('[data-testid=conversation]', { state: 'detached' });
    // Carol has it now.
    const carolCtx = await newContext(browser);
    const carolPage = await signIn(carolCtx, server.base, carol.email, carol.password);
    await row(carolPage, 'Rita Reassign').waitFor();
    await ctx.close();
    await carolCtx.close();
  });

  test('close, then a new inbound message reopens it', async () => {
    await openConversation(admin, 'Ana Live');
    await admin.click('[data-testid=close]');
    await waitForText(admin, '[data-testid=conv-status]', /closed/i, 'status after close');
    await server.inbound(channel, { external_id: 'c-ana', name: 'Ana Live' }, 'One more question');
    await waitForText(admin, '[data-testid=conv-status]', /open/i, 'status after the new message');
    await admin.locator('[data-testid=message][data-kind=inbound]', { hasText: 'One more question' }).waitFor();
  });

  test('filter by tag', async () => {
    const tag = await server.api('POST', '/tags', { name: 'vip', color: '#e11d48', pinned: true });
    const { conversation_id } = await server.inbound(channel, { external_id: 'c-vera', name: 'Vera Vip' }, 'I am important');
    const conv = await server.api('GET', `/conversations/${conversation_id}`);
    await server.api('PUT', `/contacts/${conv.contact.id}/tags`, { tag_ids: [tag.id] });
    await admin.reload();
    await row(admin, 'Vera Vip').waitFor();
    await row(admin, 'Ana Live').waitFor();
    await admin.click('[data-testid=filters]');
    await admin.check('[data-testid=filter-tag-vip]');
    await admin.click('[data-testid=filters-apply]');
    await row(admin, 'Ana Live').waitFor({ state: 'detached' });
    await row(admin, 'Vera Vip').waitFor();
    // Pinned tags show in the row.
    await row(admin, 'Vera Vip').locator('.tag-chip', { hasText: 'vip' }).waitFor();
    await admin.click('text=Clear all');
    await row(admin, 'Ana Live').waitFor();
  });

  test('search by 4 digits of a phone number', async () => {
    await server.inbound(channel, { external_id: 'c-pablo', name: 'Pablo Phone', phone: '+34 611 98 7654' }, 'Call me maybe');
    await row(admin, 'Pablo Phone').waitFor();
    await admin.fill('#search', '765');
    await admin.waitForSelector('#search-hint');
    await admin.fill('#search', '7654');
    await row(admin, 'Ana Live').waitFor({ state: 'detached' });
    await row(admin, 'Pablo Phone').waitFor();
    assert.equal(await admin.locator('[data-testid=conv-row]').count(), 1);
    await admin.fill('#search', '');
    await row(admin, 'Ana Live').waitFor();
  });

  test('search tabs: everywhere, contacts only, messages only', async () => {
    // One contact named like a word another customer wrote.
    await server.inbound(channel, { external_id: 'c-gardenia', name: 'Gardenia Flores' }, 'Hello there');
    await server.inbound(channel, { external_id: 'c-tomas', name: 'Tomas Writer' }, 'Do you sell gardenia seeds?');
    await row(admin, 'Tomas Writer').waitFor();
    assert.equal(await admin.locator('[data-testid=search-in-all]').count(), 0, 'no tabs without a search');
    await admin.fill('#search', 'gardenia');
    await row(admin, 'Ana Live').waitFor({ state: 'detached' });
    await row(admin, 'Gardenia Flores').waitFor();
    await row(admin, 'Tomas Writer').waitFor();
    assert.equal(await admin.getAttribute('[data-testid=search-in-all]', 'aria-selected'), 'true');
    await admin.click('[data-testid=search-in-contacts]');
    await row(admin, 'Tomas Writer').waitFor({ state: 'detached' });
    await row(admin, 'Gardenia Flores').waitFor();
    await admin.click('[data-testid=search-in-messages]');
    await row(admin, 'Gardenia Flores').waitFor({ state: 'detached' });
    await row(admin, 'Tomas Writer').waitFor();
    assert.equal(await admin.locator('[data-testid=conv-row]').count(), 1);
    await admin.click('[data-testid=search-in-all]');
    await row(admin, 'Gardenia Flores').waitFor();
    await admin.fill('#search', '');
    await row(admin, 'Ana Live').waitFor();
    assert.equal(await admin.locator('[data-testid=search-in-all]').count(), 0);
  });

  test('merge two contacts of the same person from the contact panel', async () => {
    await server.inbound(channel, { external_id: 'c-marta-1', name: 'Marta Merge', email: 'marta@shop.test' }, 'From my laptop');
    await server.inbound(channel, { external_id: 'c-marta-2', name: 'Marta M.', phone: '+34 622 000 111' }, 'From my phone');
    await openConversation(admin, 'Marta Merge');
    const panel = admin.locator('[data-testid=contact-panel]');
    await panel.locator('[data-testid=identities] li').first().waitFor();
    assert.equal(await panel.locator('[data-testid=identities] li').count(), 1);
    await panel.locator('[data-testid=contact-merge]').click();
    await admin.fill('[data-testid=merge-search]', 'Marta M.');
    await admin.locator('[data-testid=merge-option]', { hasText: 'Marta M.' }).click();
    await admin.click('[data-testid=merge-confirm]');
    // Both identities are now this contact's, and the other conversation is listed with it.
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid=identities] li').length === 2);
    await panel.locator('.other-convs li', { hasText: 'From my phone' }).waitFor();
  });

  test('composer: canned response by :shortcut, internal note, attachment', async () => {
    await server.api('POST', '/canned-responses', { shortcut: 'ship', text: 'We ship in 2–4 working days, {{contact.name}}.', personal: false });
    // The app loads canned responses at sign-in.
    await admin.reload();
    await openConversation(admin, 'Pablo Phone');
    const input = admin.locator('[data-testid=composer-input]');
    await input.fill('');
    await input.pressSequentially(':shi');
    await admin.waitForSelector('.suggest-item:has-text(":ship")');
    await input.press('Enter');
    await admin.waitForFunction(() => (document.querySelector('[data-testid=composer-input]') as HTMLTextAreaElement).value === 'We ship in 2–4 working days, Pablo Phone.');
    // An internal note looks different from a reply.
    await admin.click('[data-testid=mode-note]');
    await input.fill('Customer prefers a call');
    await input.press('Enter');
    await admin.locator('[data-testid=message][data-kind=note]', { hasText: 'Customer prefers a call' }).waitFor();
    // A file chosen with the button is uploaded and sent with the reply.
    await admin.click('[data-testid=mode-reply]');
    await admin.setInputFiles('[data-testid=file-input]', { name: 'invoice.txt', mimeType: 'text/plain', buffer: Buffer.from('Invoice 42: 10 EUR\n') });
    await admin.waitForSelector('.file-chip:has-text("invoice.txt") >> text=/KB|B$/');
    await admin.click('[data-testid=send]');
    await admin.locator('[data-testid=message][data-kind=outbound] .att-file', { hasText: 'invoice.txt' }).waitFor();
  });

  test('keyboard: j/k move between conversations, ? shows the help', async () => {
    await admin.locator('[data-testid=conv-row]').first().click();
    const before = await admin.locator('[data-testid=conv-row]').first().getAttribute('data-id');
    await admin.waitForSelector(`[data-testid=conversation][data-id="${before}"]`);
    await admin.locator('.messages').click();
    await admin.keyboard.press('j');
    await admin.waitForFunction((b) => document.querySelector('[data-testid=conversation]')?.getAttribute('data-id') !== b, before);
    await admin.keyboard.press('k');
    await admin.waitForFunction((b) => document.querySelector('[data-testid=conversation]')?.getAttribute('data-id') === b, before);
    await admin.keyboard.press('?');
    await admin.waitForSelector('[data-testid=shortcuts-help]');
    await admin.keyboard.press('Escape');
    await admin.waitForSelector('[data-testid=shortcuts-help]', { state: 'detached' });
  });

  test('bulk select and delete (admin)', async () => {
    await server.inbound(channel, { external_id: 'c-sp1', name: 'Spam One' }, 'buy now');
    await server.inbound(channel, { external_id: 'c-sp2', name: 'Spam Two' }, 'buy now');
    await row(admin, 'Spam One').waitFor();
    await row(admin, 'Spam Two').waitFor();
    await row(admin, 'Spam One').locator('.row-check').check();
    await row(admin, 'Spam Two').locator('.row-check').check();
    await admin.click('[data-testid=bulk-delete]');
    await admin.click('.modal .btn-danger');
    await row(admin, 'Spam One').waitFor({ state: 'detached' });
    await row(admin, 'Spam Two').waitFor({ state: 'detached' });
  });

  test('settings: create an operator and an API channel', async () => {
    await admin.goto(server.base + '/settings/users');
    await admin.click('[data-testid=new-user]');
    await admin.fill('.modal input[name=email]', 'dave@example.com');
    await admin.fill('.modal input[name=name]', 'Dave Desk');
    await admin.fill('.modal input[name=password]', 'dave-pass-1234');
    await admin.check('.modal input[name=delete_conversations]');
    await admin.click('.modal-foot .btn-primary');
    await admin.waitForSelector('.table td:has-text("Dave Desk")');
    const users = await server.api('GET', '/users');
    const dave = users.find((u: any) => u.email === 'dave@example.com');
    assert.deepEqual(dave.flags, ['delete_conversations']);
    await admin.goto(server.base + '/settings/channels');
    await admin.click('[data-testid=new-channel]');
    await admin.click('[data-testid=kind-api]');
    await admin.fill('.modal input[name=name]', 'Partner API');
    await admin.click('.modal-foot .btn-primary');
    const secret = (await admin.locator('[data-testid=channel-secret]').textContent())?.trim() ?? '';
    assert.match(secret, /^[0-9a-f]{32,}$/);
    await admin.click('.modal-foot .btn-primary');
    await admin.waitForSelector('.item-card:has-text("Partner API")');
    await admin.goto(server.base + '/');
    await admin.waitForSelector('[data-testid=section-all]');
  });

  test('switch the language to Spanish and to Russian (remembered)', async () => {
    await admin.click('[data-testid=user-menu]');
    await admin.click('[data-testid=lang-es]');
    await admin.waitForSelector('[data-testid=section-mine]:has-text("Míos")');
    await admin.waitForSelector('.topnav a:has-text("Bandeja")');
    await admin.click('[data-testid=user-menu]');
    await admin.click('[data-testid=lang-ru]');
    await admin.waitForSelector('[data-testid=section-mine]:has-text("Мои")');
    await admin.waitForSelector('.topnav a:has-text("Настройки")');
    await admin.reload();
    await admin.waitForSelector('[data-testid=section-all]:has-text("Все")');
    const me = await server.api('GET', '/auth/me');
    assert.equal(me.language, 'ru');
    // History lines are said in the operator's language too (from the server's event data).
    await openConversation(admin, 'Ana Live');
    await admin.locator('[data-testid=event]', { hasText: 'Закрыт' }).first().waitFor();
    // Back to English for whoever runs next.
    await admin.click('[data-testid=user-menu]');
    await admin.click('[data-testid=lang-en]');
    await admin.waitForSelector('[data-testid=section-mine]:has-text("Mine")');
  });
});
