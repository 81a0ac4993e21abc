// The widget's loader: what a company's pages carry (one line, an async module script).
// It stays small: it says where the visitor is (a page view), asks the channel's rules what to
// do here, and shows the button (or opens the chat after N seconds, or nothing). The chat itself
// is imported only when the visitor opens it. Everything lives in a shadow root, so the page's
// styles and ours never meet, and nothing here throws into the page.
import type { Ctx, Visit } from './types';

const script = new URL(import.meta.url);
const base = script.origin;
const channel = Number(script.searchParams.get('channel'));
const pageMode = script.searchParams.get('mode') === 'page';
const key = (k: string) => `charla.${channel}.${k}`;

function load(k: string): string | null {
  try {
    return localStorage.getItem(key(k));
  } catch {
    return null;
  }
}
function save(k: string, v: string | null) {
  try {
    if (v === null) localStorage.removeItem(key(k));
    else localStorage.setItem(key(k), v);
  } catch {
    /* private mode: this page only */
  }
}

const CSS = `
:host{all:initial}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.launch{position:fixed;right:20px;bottom:20px;display:flex;align-items:center;gap:10px;z-index:2147483000}
.btn{width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;color:#fff;display:grid;place-items:center;
box-shadow:0 4px 14px rgba(0,0,0,.25);transition:transform .15s}
.btn:hover{transform:scale(1.06)}.btn:focus-visible{outline:3px solid #fff;outline-offset:2px}
.btn svg{width:28px;height:28px;fill:currentColor}
.bubble{background:#fff;color:#222;padding:10px 14px;border-radius:12px;box-shadow:0 4px 14px rgba(0,0,0,.18);
font-size:14px;max-width:240px;cursor:pointer;line-height:1.35}
.badge{position:absolute;top:-2px;right:-2px;background:#e53935;color:#fff;border-radius:10px;font-size:11px;
min-width:20px;height:20px;display:grid;place-items:center;padding:0 5px}
`;

const ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z"/></svg>';

async function visit(): Promise<Visit | null> {
  try {
    const r = await fetch(`${base}/widget/${channel}/visit`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: load('token'), url: location.href, title: document.title }),
    });
    if (!r.ok) return null;
    const v = (await r.json()) as Visit;
    save('token', v.token);
    return v;
  } catch {
    return null;
  }
}

function start(v: Visit) {
  const host = document.createElement('div');
  host.setAttribute('data-charla-widget', String(channel));
  const root = host.attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = CSS;
  root.appendChild(style);
  const launch = document.createElement('div');
  launch.className = 'launch';
  launch.setAttribute('part', 'launcher');
  root.appendChild(launch);
  document.body.appendChild(host);

  let opening: Promise<void> | null = null;
  const ctx: Ctx = {
    base,
    channel,
    visit: v,
    pageMode,
    load,
    save,
    root,
    minimized() {
      save('open', null);
      launch.hidden = false;
    },
  };
  const open = () => {
    save('open', '1');
    launch.hidden = true;
    bubble?.remove();
    if (!opening) opening = import('./chat').then((m) => m.mount(ctx)).catch(() => void (launch.hidden = false));
    else void opening.then(() => ctx.reopen?.());
  };

  const c = v.channel;
  const button = document.createElement('button');
  button.className = 'btn';
  button.type = 'button';
  button.style.background = c.button_color;
  button.setAttribute('aria-label', c.button_text);
  button.setAttribute('data-testid', 'charla-button');
  button.innerHTML = ICON;
  button.onclick = open;
  let bubble: HTMLElement | null = null;
  if (v.rule.button === 'show_with_notification') {
    bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.setAttribute('data-testid', 'charla-bubble');
    bubble.textContent = c.button_text;
    bubble.onclick = open;
    launch.appendChild(bubble);
  }
  launch.appendChild(button);

  if (pageMode || load('open') === '1') open();
  else if (v.rule.button === 'open_automatically') setTimeout(open, (v.rule.auto_open_after_secs ?? 0) * 1000);
}

async function main() {
  if (!channel || (window as any).__charlaWidget?.[channel]) return;
  ((window as any).__charlaWidget ??= {})[channel] = true;
  const v = await visit();
  if (!v) return;
  // "Hide" hides the chat on these pages, unless the visitor is in a conversation already.
  const talking = v.conversation && v.conversation.status !== 'closed';
  if (v.rule.button === 'hide' && !talking && !pageMode) return;
  if (document.body) start(v);
  else document.addEventListener('DOMContentLoaded', () => start(v), { once: true });
}

main().catch(() => {});
