// The 24-hour customer-service window of WhatsApp and Instagram conversations
// (charla-core/src/window.rs): how long free text may still be sent, updated every minute.
import { useEffect, useReducer } from 'preact/hooks';
import { fullTime, t } from '../i18n';
import { Icon } from '../icons';
import { useStore } from '../store';
import type { Channel, Conversation, Id } from '../types';

const WINDOW_MS = 24 * 3600e3;
/** Under this, the indicator turns amber. */
const SOON_MS = 2 * 3600e3;

export type ReplyWindow =
  | { state: 'none' }
  | { state: 'open'; kind: 'whatsapp' | 'instagram'; left: number; expires: number; lastInbound: string | null }
  | { state: 'closed'; kind: 'whatsapp' | 'instagram'; lastInbound: string | null };

export function replyWindow(conv: Conversation | undefined, channel: Channel | undefined, now: number): ReplyWindow {
  const kind = channel?.kind;
  if (!conv || (kind !== 'whatsapp' && kind !== 'instagram')) return { state: 'none' };
  const last = conv.last_inbound_at ?? null;
  const expires = conv.reply_window_expires_at ? Date.parse(conv.reply_window_expires_at) : last ? Date.parse(last) + WINDOW_MS : NaN;
  if (!Number.isFinite(expires) || now > expires) return { state: 'closed', kind, lastInbound: last };
  return { state: 'open', kind, left: expires - now, expires, lastInbound: last };
}

/** The conversation's window, re-evaluated every minute and right when it closes. */
export function useReplyWindow(id: Id): ReplyWindow {
  const conv = useStore((s) => s.convs.get(id));
  const channel = useStore((s) => (conv ? s.channels.get(conv.channel_id) : undefined));
  const [, tick] = useReducer((x: number) => x + 1, 0);
  const w = replyWindow(conv, channel, Date.now());
  const expires = w.state === 'open' ? w.expires : 0;
  useEffect(() => {
    if (w.state === 'none') return;
    const every = setInterval(tick, 60e3);
    const end = expires - Date.now();
    const atEnd = end > 0 && end < 2 ** 31 - 1 ? setTimeout(tick, end + 50) : undefined;
    return () => {
      clearInterval(every);
      clearTimeout(atEnd);
    };
  }, [w.state, expires]);
  return w;
}

export function formatLeft(ms: number): string {
  const mins = Math.floor(ms / 60e3);
  if (mins < 1) return t('window.underMinute');
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  return h ? t('window.hm', { h, m }) : t('window.m', { m });
}

export function WindowIndicator({ w }: { w: ReplyWindow }) {
  if (w.state === 'none') return null;
  const rule = w.kind === 'whatsapp' ? t('window.ruleWhatsapp') : t('window.ruleInstagram');
  const since = w.lastInbound ? t('window.lastInbound', { time: fullTime(w.lastInbound) }) : t('window.neverWrote');
  const title = since + ' ' + rule;
  if (w.state === 'open') {
    return (
      <span class={'win-ind ' + (w.left < SOON_MS ? 'win-soon' : 'win-open')} data-testid="reply-window" data-state="open" title={title}>
        <Icon name="clock" size={13} />
        {t('window.left', { time: formatLeft(w.left) })}
      </span>
    );
  }
  return (
    <span class="win-ind win-closed" data-testid="reply-window" data-state="closed" title={title}>
      <Icon name="lock" size={13} />
      {w.kind === 'whatsapp' ? t('window.closedWhatsapp') : t('window.closedInstagram')}
    </span>
  );
}
