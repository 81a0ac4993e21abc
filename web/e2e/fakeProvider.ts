// A fake messenger provider for the operator-app e2e tests: one HTTP server on 127.0.0.1:0
// answering the endpoints charla calls (the same ones as crates/charla-server/tests/messenger/
// mod.rs): WhatsApp Cloud API (`/{version}/{phone-number-id}` and `/messages`,
// `/{waba}/message_templates`), the Telegram Bot API (`/bot<token>/<method>`) and Instagram
// messaging (`/{version}/{page-id}/messages`, `/{page-id}`, `/{igsid}?fields=`). It records every
// request and answers scripted replies before falling back to success.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export const WA = { token: 'EAAG-e2e-token', appSecret: 'e2e-app-secret', phoneNumberId: '1065403522', waba: '1022901293' };
export const TG = { botToken: '123456:ABC-e2e_token' };
export const IG = { pageId: '5551234', token: 'EAAG-ig-token', appSecret: 'ig-app-secret' };

export interface Req {
  key: string;
  method: string;
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  body: string;
  json(): any;
}

export interface Reply {
  status: number;
  body: unknown;
}

export class FakeProvider {
  private server!: Server;
  url = '';
  requests: Req[] = [];
  private scripts = new Map<string, Reply[]>();
  private waiters: (() => void)[] = [];
  private n = 0;

  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const key = classify(req.method ?? 'GET', u.pathname, u.search);
        const r: Req = { key, method: req.method ?? 'GET', path: u.pathname, query: u.search, headers: req.headers, body, json: () => JSON.parse(body || 'null') };
        this.requests.push(r);
        const reply = this.scripts.get(key)?.shift() ?? this.default(r);
        res.writeHead(reply.status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(reply.body));
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address();
    this.url = typeof a === 'object' && a ? `http://127.0.0.1:${a.port}` : '';
  }

  stop() {
    this.server?.close();
  }

  /** Answers for the next requests to `key`, in order; then the default success. */
  script(key: string, ...replies: Reply[]) {
    this.scripts.set(key, [...(this.scripts.get(key) ?? []), ...replies]);
  }

  of(key: string): Req[] {
    return this.requests.filter((r) => r.key === key);
  }

  /** Waits until `key` got at least `n` requests. */
  async wait(key: string, n = 1, ms = 15000): Promise<Req[]> {
    const deadline = Date.now() + ms;
    while (this.of(key).length < n) {
      if (Date.now() > deadline) throw new Error(`the fake provider got ${this.of(key).length} ${key} request(s), expected ${n}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return this.of(key);
  }

  private default(r: Req): Reply {
    const n = ++this.n;
    const ok = (body: unknown): Reply => ({ status: 200, body });
    switch (r.key) {
      case 'wa.send':
        return ok({ messaging_product: 'whatsapp', contacts: [{ input: 'x', wa_id: 'x' }], messages: [{ id: `wamid.out-${n}` }] });
      case 'wa.phone':
        return ok({ display_phone_number: '+1 555-000-1111', verified_name: 'Acme', id: WA.phoneNumberId });
      case 'wa.templates':
        return ok({ data: [], paging: { cursors: { before: '', after: '' } } });
      case 'ig.send':
        return ok({ recipient_id: r.json()?.recipient?.id, message_id: `mid.out-${n}` });
      case 'ig.profile':
        return ok({ name: 'Pia Ruiz', username: 'pia.ruiz', id: r.path.split('/').pop() });
      case 'ig.page':
        return ok({ name: 'Acme Store', id: IG.pageId, instagram_business_account: { username: 'acme' } });
      case 'tg.getMe':
        return ok({ ok: true, result: { id: 777, is_bot: true, first_name: 'Charla', username: 'charla_e2e_bot' } });
      case 'tg.setWebhook':
        return ok({ ok: true, result: true, description: 'Webhook was set' });
      case 'tg.getWebhookInfo':
        return ok({ ok: true, result: { url: '', pending_update_count: 0 } });
      default:
        if (r.key.startsWith('tg.send')) return ok({ ok: true, result: { message_id: 1000 + n, date: 1, chat: { id: 1, type: 'private' } } });
        return { status: 404, body: { error: { message: 'unknown path', code: 100 } } };
    }
  }
}

function classify(method: string, path: string, query: string): string {
  const parts = path.replace(/^\//, '').split('/');
  if (parts[0].startsWith('bot')) return 'tg.' + (parts[1] ?? '');
  if (method === 'POST' && parts.length === 3 && parts[2] === 'messages') return parts[1] === IG.pageId ? 'ig.send' : 'wa.send';
  if (method === 'GET' && parts.length === 3 && parts[2] === 'message_templates') return 'wa.templates';
  if (method === 'GET' && parts.length === 2) {
    if (parts[1] === IG.pageId) return 'ig.page';
    if (query.includes('display_phone_number')) return 'wa.phone';
    if (query.includes('username')) return 'ig.profile';
  }
  return 'unknown';
}

/** POSTs a Meta webhook (WhatsApp, Instagram) signed like Meta does: X-Hub-Signature-256. */
export async function metaHook(base: string, path: string, appSecret: string, payload: unknown): Promise<number> {
  const body = JSON.stringify(payload);
  const sig = 'sha256=' + createHmac('sha256', appSecret).update(body).digest('hex');
  const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': sig }, body });
  await r.text();
  return r.status;
}

/** A WhatsApp Cloud API webhook with one inbound text message. */
export function waText(id: string, from: string, name: string, text: string) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WA.waba,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001111', phone_number_id: WA.phoneNumberId },
              contacts: [{ profile: { name }, wa_id: from }],
              messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  };
}

/** An Instagram messaging webhook with one inbound text. */
export function igText(mid: string, sender: string, text: string) {
  return {
    object: 'instagram',
    entry: [{ id: '17841400000000000', time: Date.now(), messaging: [{ sender: { id: sender }, recipient: { id: 'ig-me' }, timestamp: Date.now(), message: { mid, text } }] }],
  };
}
