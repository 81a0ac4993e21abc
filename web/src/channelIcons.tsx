// Channel glyphs in their networks' colours (inline SVG): WhatsApp, Telegram, Instagram drawn
// as recognisable marks; the other kinds use the app's line icons in a kind colour.
import { useState } from 'preact/hooks';
import { Icon, channelIcon } from './icons';
import { t, type TextKey } from './i18n';
import './messengers.css';

let gradientSeq = 0;

/** The channel kind's glyph; `title` (default: the kind's name) is what a screen reader says. */
export function ChannelIcon({ kind, size = 16, title, class: cls }: { kind: string; size?: number; title?: string | null; class?: string }) {
  const label = title === null ? undefined : (title ?? kindName(kind));
  const common = {
    class: 'ch-icon ch-' + kind + (cls ? ' ' + cls : ''),
    width: size,
    height: size,
    viewBox: '0 0 24 24',
    role: label ? ('img' as const) : undefined,
    'aria-hidden': label ? undefined : ('true' as const),
    'data-kind': kind,
  };
  switch (kind) {
    case 'whatsapp':
      return (
        <svg {...common}>
          {label && <title>{label}</title>}
          <path fill="#25D366" d="M12 1.6A10.4 10.4 0 0 0 3.1 17.4L1.7 22.4l5.1-1.3A10.4 10.4 0 1 0 12 1.6z" />
          <path
            fill="#fff"
            d="M8.4 6.6c-.2-.5-.5-.5-.7-.5h-.6c-.2 0-.6.1-.9.4-.3.3-1.2 1.2-1.2 2.9s1.2 3.4 1.4 3.6c.2.2 2.4 3.8 5.9 5.2 2.9 1.1 3.5.9 4.1.9.6-.1 2-.8 2.3-1.6.3-.8.3-1.5.2-1.6-.1-.1-.3-.2-.7-.4l-2.2-1.1c-.3-.1-.5-.2-.7.2-.2.3-.8 1-1 1.2-.2.2-.4.2-.7.1-.3-.2-1.4-.5-2.6-1.6-1-.9-1.6-1.9-1.8-2.3-.2-.3 0-.5.1-.7l.5-.6c.2-.2.2-.4.3-.6.1-.2 0-.4 0-.6l-.9-2.3z"
          />
        </svg>
      );
    case 'telegram':
      return (
        <svg {...common}>
          {label && <title>{label}</title>}
          <circle cx="12" cy="12" r="11" fill="#2AABEE" />
          <path
            fill="#fff"
            d="M5.3 11.7 16.9 7.2c.55-.2 1.02.13.84.95l-1.98 9.3c-.15.66-.54.82-1.1.51l-3-2.22-1.46 1.4c-.16.16-.3.3-.6.3l.21-3.06 5.56-5.02c.24-.21-.05-.33-.38-.12l-6.87 4.33-2.96-.92c-.64-.2-.66-.64.14-.95z"
          />
        </svg>
      );
    case 'instagram':
      return <InstagramGlyph common={common} label={label} />;
    default:
      return (
        <span class={common.class} role={common.role} aria-label={label} aria-hidden={common['aria-hidden']} data-kind={kind} style={{ width: size, height: size }}>
          <Icon name={channelIcon(kind)} size={size} />
        </span>
      );
  }
}

function InstagramGlyph({ common, label }: { common: Record<string, unknown>; label?: string }) {
  // Gradient ids must be unique in the page: a hidden icon would take the others' fill with it.
  const [id] = useState(() => 'ig-grad-' + ++gradientSeq);
  return (
    <svg {...common}>
      {label && <title>{label}</title>}
      <defs>
        <radialGradient id={id} cx="0.3" cy="1.07" r="1.25">
          <stop offset="0" stop-color="#FFD776" />
          <stop offset="0.25" stop-color="#F9A03A" />
          <stop offset="0.5" stop-color="#E1306C" />
          <stop offset="0.75" stop-color="#C13584" />
          <stop offset="1" stop-color="#5B51D8" />
        </radialGradient>
      </defs>
      <rect x="1.5" y="1.5" width="21" height="21" rx="6" fill={`url(#${id})`} />
      <rect x="6" y="6" width="12" height="12" rx="3.6" fill="none" stroke="#fff" stroke-width="1.8" />
      <circle cx="12" cy="12" r="2.9" fill="none" stroke="#fff" stroke-width="1.8" />
      <circle cx="15.6" cy="8.4" r="1" fill="#fff" />
    </svg>
  );
}

/** The glyph on a soft square in the kind's colour (settings lists). */
export function ChannelBadge({ kind, size = 20 }: { kind: string; size?: number }) {
  return (
    <span class={'ch-badge ch-badge-' + kind}>
      <ChannelIcon kind={kind} size={size} title={null} />
    </span>
  );
}

export function kindName(kind: string): string {
  return t(('channelKind.' + kind) as TextKey) || kind;
}

/** Messenger kinds: provider credentials, templates, webhooks to configure. */
export const MESSENGERS = ['whatsapp', 'telegram', 'instagram'] as const;
export type MessengerKind = (typeof MESSENGERS)[number];
export const isMessenger = (kind: string | undefined): kind is MessengerKind => !!kind && (MESSENGERS as readonly string[]).includes(kind);
