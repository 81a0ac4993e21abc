// The chat panel, loaded when the visitor opens the widget.
//
// Sending: every message first goes to a queue in localStorage with its client_msg_id, then is
// POSTed in order; a failure (offline, server away) leaves it queued and it is sent again later
// (when the browser is back online, the socket reconnects, or a timer fires). The server answers
// a resend with the first message, so nothing is ever doubled. Operators' messages arrive on
// the socket; reconnecting asks for what came after the last one seen.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import css from './chat.css?inline';
import type { ConvState, Ctx, VMessage } from './types';

interface Queued {
  cmid: string;
  text: string;
  files: { id: number; key: string; name: string }[];
  at: string;
  failed?: boolean;
}

const EMOJI = ['😀', '😂', '😊', '😍', '🤔', '😢', '😮', '😡', '👍', '👎', '🙏', '👏', '🎉', '❤️', '🔥', '✅', '❌', '👋', '📦', '💳'];
const FACES: [string, string, string][] = [
  ['satisfied', '😊', 'Satisfied'],
  ['neutral', '😐', 'Neutral'],
  ['dissatisfied', '😞', 'Dissatisfied'],
];

function uid(): string {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

function time(iso: string): string {
  const d = new Date(iso);
  return isNaN(+d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

class Chat {
  token: string;
  msgs = new Map<number, VMessage>();
  queue: Queued[];
  conv: ConvState | null;
  available: boolean;
  typing: string | null = null;
  online = true;
  ws: WebSocket | null = null;
  private retry = 1000;
  private flushing = false;
  private timer = 0;
  private typingTimer = 0;
  private lastTyping = 0;
  listeners = new Set<() => void>();
  isOpen = true;

  constructor(public ctx: Ctx) {
    this.token = ctx.visit.token;
    this.conv = ctx.visit.conversation;
    this.available = ctx.visit.available;
    try {
      this.queue = JSON.parse(ctx.load('queue') ?? '[]');
    } catch {
      this.queue = [];
    }
  }

  changed() {
    this.listeners.forEach((f) => f());
  }

  url(path: string) {
    return `${this.ctx.base}/widget/${this.ctx.channel}${path}`;
  }

  async call(method: string, path: string, body?: unknown): Promise<any> {
    const headers: Record<string, string> = { Authorization: 'Bearer ' + this.token };
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const r = await fetch(this.url(path), { method, headers, body: payload });
    const text = await r.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!r.ok) throw Object.assign(new Error(json?.error?.message ?? 'error'), { status: r.status, code: json?.error?.code });
    return json;
  }

  lastId(): number {
    let m = 0;
    for (const id of this.msgs.keys()) m = Math.max(m, id);
    return m;
  }

  add(m: VMessage) {
    this.msgs.set(m.id, m);
    if (m.client_msg_id) {
      const before = this.queue.length;
      this.queue = this.queue.filter((q) => q.cmid !== m.client_msg_id);
      if (this.queue.length !== before) this.persist();
    }
  }

  persist() {
    this.ctx.save('queue', this.queue.length ? JSON.stringify(this.queue) : null);
  }

  async start() {
    await this.reload();
    this.connect();
    this.flush();
    addEventListener('online', () => {
      this.flush();
      if (!this.ws) this.connect();
    });
    document.addEventListener('visibilitychange', () => this.receipts());
  }

  async reload() {
    try {
      const r = await this.call('GET', '/messages?limit=100');
      for (const m of r.items as VMessage[]) this.add(m);
      if (r.conversation) this.conv = r.conversation;
      this.online = true;
    } catch {
      this.online = false;
    }
    this.changed();
    this.receipts();
  }

  connect() {
    if (this.ws) return;
    const u = this.url(`/ws?token=${encodeURIComponent(this.token)}&after=${this.lastId()}`).replace(/^http/, 'ws');
    let ws: WebSocket;
    try {
      ws = new WebSocket(u);
    } catch {
      return this.reconnectLater();
    }
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 1000;
      this.online = true;
      this.changed();
      this.flush();
    };
    ws.onmessage = (ev) => {
      let f: any;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (f.type === 'message') {
        const m = f.data as VMessage;
        this.add(m);
        if (m.kind === 'outbound') this.typing = null;
        this.receipts();
      } else if (f.type === 'conversation' || (f.type === 'ready' && f.data?.conversation)) {
        this.conv = f.type === 'ready' ? f.data.conversation : f.data;
      } else if (f.type === 'typing') {
        this.typing = f.data?.name || '…';
        clearTimeout(this.typingTimer);
        this.typingTimer = window.setTimeout(() => {
          this.typing = null;
          this.changed();
        }, 4000);
      } else if (f.type === 'resync') {
        void this.reload();
      }
      this.changed();
    };
    ws.onclose = () => {
      this.ws = null;
      this.online = false;
      this.changed();
      this.reconnectLater();
    };
  }

  reconnectLater() {
    setTimeout(() => this.connect(), this.retry);
    this.retry = Math.min(this.retry * 2, 15000);
  }

  send(text: string, files: Queued['files']) {
    this.queue.push({ cmid: uid(), text, files, at: new Date().toISOString() });
    this.persist();
    this.changed();
    this.flush();
  }

  /** Sends the queue in order; stops at the first failure and tries again later. */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    clearTimeout(this.timer);
    try {
      while (this.queue.length) {
        const q = this.queue[0];
        try {
          const r = await this.call('POST', '/messages', { text: q.text, client_msg_id: q.cmid, attachments: q.files });
          this.add(r.message);
          this.available = r.available;
          if (r.conversation) this.conv = r.conversation;
          this.online = true;
        } catch (e: any) {
          if (e.status && e.status < 500 && e.status !== 429) {
            // Refused for good (too long, bad file): keep it visible as failed, out of the queue.
            q.failed = true;
            this.queue.shift();
            this.failed.push(q);
          } else {
            this.online = false;
            this.timer = window.setTimeout(() => this.flush(), 3000);
            break;
          }
        }
        this.persist();
        this.changed();
      }
    } finally {
      this.flushing = false;
      this.changed();
    }
  }
  failed: Queued[] = [];

  /** Tells the server what reached the visitor (and what they saw). */
  receipts() {
    let up = 0;
    let worst = 'read';
    for (const m of this.msgs.values()) {
      if (m.kind === 'outbound' && m.status !== 'read') {
        up = Math.max(up, m.id);
        if (m.status !== 'delivered') worst = 'sent';
      }
    }
    if (!up) return;
    const seen = this.isOpen && document.visibilityState === 'visible';
    if (!seen && worst !== 'sent') return;
    this.call('POST', '/receipts', { up_to: up, status: seen ? 'read' : 'delivered' }).catch(() => {});
  }

  typed() {
    const now = Date.now();
    if (now - this.lastTyping < 2000 || this.ws?.readyState !== 1) return;
    this.lastTyping = now;
    this.ws.send('{"type":"typing"}');
  }
}

function Icon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" width="20" height="20">
      <path d={d} fill="currentColor" />
    </svg>
  );
}

function Status({ m }: { m: VMessage }) {
  const label = m.status === 'read' ? 'Seen' : m.status === 'delivered' ? 'Delivered' : 'Sent';
  return <span class="st" data-status={m.status} title={label}>{m.status === 'sent' ? '✓' : '✓✓'}</span>;
}

function Bubble({ m, base }: { m: VMessage; base: string }) {
  const mine = m.kind === 'inbound';
  return (
    <div class={'msg ' + (mine ? 'me' : 'op')} data-testid="widget-msg" data-id={m.id}>
      {!mine && m.author && <div class="who">{m.author}</div>}
      {m.text && <div class="tx">{m.text}</div>}
      {m.attachments.map((a) =>
        a.content_type.startsWith('image/') ? (
          <a href={base + a.url} target="_blank" rel="noopener">
            <img class="img" src={base + a.url} alt={a.name} />
          </a>
        ) : (
          <a class="file" href={base + a.url} target="_blank" rel="noopener">
            📎 {a.name}
          </a>
        ),
      )}
      <div class="meta">
        {time(m.created_at)} {mine && <Status m={m} />}
      </div>
    </div>
  );
}

function Rate({ chat, onDone }: { chat: Chat; onDone: () => void }) {
  const [rating, setRating] = useState<string | null>(chat.conv?.rating ?? null);
  const [comment, setComment] = useState('');
  const [sent, setSent] = useState(!!chat.conv?.rating);
  const [email, setEmail] = useState(chat.ctx.visit.email ?? '');
  const [mail, setMail] = useState<'' | 'sending' | 'sent' | 'error'>('');
  const submit = async (r: string, c?: string) => {
    setRating(r);
    if (r !== 'satisfied' && c === undefined) return;
    try {
      await chat.call('POST', '/rating', { rating: r, comment: c || null });
      setSent(true);
    } catch {
      /* shown as not sent: they can click again */
    }
  };
  const transcript = async (e: Event) => {
    e.preventDefault();
    setMail('sending');
    try {
      await chat.call('POST', '/transcript', { email });
      setMail('sent');
    } catch {
      setMail('error');
    }
  };
  return (
    <div class="rate" data-testid="widget-rate">
      {sent ? (
        <p class="thanks">Thank you for your feedback</p>
      ) : (
        <>
          <p>Did we correctly answer your question?</p>
          <div class="faces">
            {FACES.map(([v, f, label]) => (
              <button type="button" class={'face' + (rating === v ? ' on' : '')} aria-label={label} data-rating={v} onClick={() => submit(v)}>
                {f}
              </button>
            ))}
          </div>
          {rating && rating !== 'satisfied' && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void submit(rating, comment);
              }}
            >
              <textarea
                data-testid="rate-comment"
                placeholder="Tell us more about it (optional)"
                value={comment}
                maxLength={2000}
                onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
              />
              <button class="primary" type="submit">
                Send feedback
              </button>
            </form>
          )}
        </>
      )}
      <form class="copy" onSubmit={transcript}>
        <label>
          Receive a copy of this conversation
          <input type="email" required value={email} placeholder="you@example.com" onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" disabled={mail === 'sending'}>
          {mail === 'sent' ? 'Sent ✓' : 'Send'}
        </button>
        {mail === 'error' && <span class="err">Could not send it, try again later.</span>}
      </form>
      <button type="button" class="link" data-testid="rate-close" onClick={onDone}>
        Close conversation
      </button>
    </div>
  );
}

function LeaveEmail({ chat }: { chat: Chat }) {
  const [email, setEmail] = useState(chat.ctx.visit.email ?? '');
  const [done, setDone] = useState(false);
  const [err, setErr] = useState('');
  if (done) return <div class="notice" data-testid="email-left">Thank you! We will write to you at {email}.</div>;
  return (
    <form
      class="notice"
      data-testid="no-operator"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await chat.call('POST', '/email', { email });
          chat.ctx.visit.email = email;
          setDone(true);
        } catch (x: any) {
          setErr(x.message || 'error');
        }
      }}
    >
      <p>No operator is available right now. Leave your e-mail and we will answer you there.</p>
      <div class="row">
        <input type="email" required placeholder="you@example.com" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary">
          OK
        </button>
      </div>
      {err && <span class="err">{err}</span>}
    </form>
  );
}

function Panel({ chat }: { chat: Chat }) {
  const [, force] = useState(0);
  const [text, setText] = useState(chat.ctx.load('draft') ?? '');
  const [files, setFiles] = useState<Queued['files']>([]);
  const [emoji, setEmoji] = useState(false);
  const [rating, setRating] = useState(false);
  const [upErr, setUpErr] = useState('');
  const list = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const f = () => force((n) => n + 1);
    chat.listeners.add(f);
    return () => void chat.listeners.delete(f);
  }, []);
  const msgs = [...chat.msgs.values()].sort((a, b) => a.id - b.id);
  const pending = [...chat.queue, ...chat.failed];
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [msgs.length, pending.length, chat.typing, rating]);
  const c = chat.ctx.visit.channel;
  const conv = chat.conv;
  const closed = conv?.status === 'closed';
  const showRate = rating || (closed && !conv?.rating && msgs.length > 0);
  const noOperator = !chat.available && !conv?.operator && !chat.ctx.visit.email && !closed;

  const submit = (e?: Event) => {
    e?.preventDefault();
    const t = text.trim();
    if (!t && !files.length) return;
    chat.send(t, files);
    setText('');
    setFiles([]);
    setEmoji(false);
    chat.ctx.save('draft', null);
    input.current?.focus();
  };
  const upload = async (f: File) => {
    setUpErr('');
    const fd = new FormData();
    fd.append('file', f, f.name);
    try {
      const a = await chat.call('POST', '/attachments', fd);
      setFiles((l) => [...l, { id: a.id, key: a.key, name: a.name }]);
    } catch (x: any) {
      setUpErr(x.message || 'The file could not be sent');
    }
  };
  const end = async () => {
    if (!conv || closed) {
      if (closed && !conv?.rating && msgs.length) setRating(true);
      else minimize();
      return;
    }
    try {
      const r = await chat.call('POST', '/end');
      chat.conv = r.conversation;
    } catch {
      /* offline: rate later */
    }
    setRating(true);
  };
  const minimize = () => {
    if (chat.ctx.pageMode) return;
    chat.isOpen = false;
    setRating(false);
    chat.ctx.root.querySelector('.panel')?.setAttribute('hidden', '');
    chat.ctx.minimized();
  };

  return (
    <div class={'panel' + (chat.ctx.pageMode ? ' full' : '')} role="dialog" aria-label={c.name} data-testid="widget-panel">
      <header style={{ background: c.header_color }}>
        <div class="title">
          <b data-testid="widget-title">{conv?.operator ?? c.name}</b>
          <small>{chat.online ? (conv?.operator ? c.name : chat.available ? 'Online' : 'Away') : 'Reconnecting…'}</small>
        </div>
        {!chat.ctx.pageMode && (
          <button type="button" class="hbtn" aria-label="Minimize" onClick={minimize}>
            <Icon d="M5 12h14v2H5z" />
          </button>
        )}
        <button type="button" class="hbtn" aria-label="End chat" data-testid="widget-end" onClick={end}>
          <Icon d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z" />
        </button>
      </header>
      <div class="list" ref={list} data-testid="widget-list">
        <div class="msg op">
          <div class="who">{c.name}</div>
          <div class="tx">{c.welcome_message}</div>
        </div>
        {msgs.map((m) => (
          <Bubble key={m.id} m={m} base={chat.ctx.base} />
        ))}
        {pending.map((q) => (
          <div class="msg me pending" key={q.cmid} data-testid="widget-pending">
            {q.text && <div class="tx">{q.text}</div>}
            {q.files.map((f) => (
              <div class="file">📎 {f.name}</div>
            ))}
            <div class="meta">{q.failed ? <span class="err">Not sent</span> : <span title="Sending">🕓</span>}</div>
          </div>
        ))}
        {chat.typing && (
          <div class="typing" data-testid="widget-typing">
            {chat.typing} is typing…
          </div>
        )}
        {closed && !showRate && <div class="sys">The conversation has ended.</div>}
        {noOperator && <LeaveEmail chat={chat} />}
        {showRate && <Rate chat={chat} onDone={() => { setRating(false); minimize(); }} />}
      </div>
      {emoji && (
        <div class="emoji" role="listbox">
          {EMOJI.map((e) => (
            <button type="button" onClick={() => setText((t) => t + e)}>
              {e}
            </button>
          ))}
        </div>
      )}
      {files.length > 0 && (
        <div class="chips">
          {files.map((f) => (
            <span class="chip">
              📎 {f.name}
              <button type="button" aria-label="Remove" onClick={() => setFiles((l) => l.filter((x) => x.id !== f.id))}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      {upErr && <div class="err pad">{upErr}</div>}
      <form class="composer" onSubmit={submit}>
        <button type="button" class="ibtn" aria-label="Emoji" onClick={() => setEmoji(!emoji)}>
          😊
        </button>
        <label class="ibtn" aria-label="Attach a file">
          <Icon d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z" />
          <input
            type="file"
            hidden
            data-testid="widget-file"
            onChange={(e) => {
              const el = e.target as HTMLInputElement;
              if (el.files?.[0]) void upload(el.files[0]);
              el.value = '';
            }}
          />
        </label>
        <textarea
          ref={input}
          rows={1}
          data-testid="widget-input"
          placeholder={c.placeholder}
          value={text}
          maxLength={c.max_message_length * 2}
          onInput={(e) => {
            const v = (e.target as HTMLTextAreaElement).value;
            setText(v);
            chat.ctx.save('draft', v || null);
            chat.typed();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) submit(e);
          }}
        />
        <button type="submit" class="send" aria-label="Send" data-testid="widget-send" style={{ background: c.button_color }}>
          <Icon d="M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z" />
        </button>
      </form>
    </div>
  );
}

export function mount(ctx: Ctx) {
  const style = document.createElement('style');
  style.textContent = css;
  ctx.root.appendChild(style);
  const holder = document.createElement('div');
  ctx.root.appendChild(holder);
  const chat = new Chat(ctx);
  ctx.reopen = () => {
    chat.isOpen = true;
    ctx.root.querySelector('.panel')?.removeAttribute('hidden');
    chat.receipts();
    chat.changed();
  };
  render(<Panel chat={chat} />, holder);
  void chat.start();
}
