// Settings → Channels for messengers (docs/messengers.md), loaded with the settings chunk:
// the "New channel" kind choice, a setup form per kind (WhatsApp, Telegram, Instagram), the
// panel that shows the webhook URL and verify token to copy, and the connection test.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { get, patch, post, put } from '../api';
import { ChannelBadge, kindName, type MessengerKind } from '../channelIcons';
import { t, type TextKey } from '../i18n';
import { Icon } from '../icons';
import { emit, errText, state } from '../store';
import type { Channel, ConnectionReport } from '../types';
import { Field, Modal, Spinner } from '../ui';
import './setup.css';

export type NewKind = 'website' | 'api' | MessengerKind;

const KINDS: { kind: NewKind; hint: TextKey }[] = [
  { kind: 'website', hint: 'msgr.kindHint.website' },
  { kind: 'whatsapp', hint: 'msgr.kindHint.whatsapp' },
  { kind: 'telegram', hint: 'msgr.kindHint.telegram' },
  { kind: 'instagram', hint: 'msgr.kindHint.instagram' },
  { kind: 'api', hint: 'msgr.kindHint.api' },
];

/** Step 0 of "New channel": which kind. `kinds` limits the tiles (Website only when its form exists). */
export function NewChannelChooser({ onPick, onClose, kinds }: { onPick: (k: NewKind) => void; onClose: () => void; kinds?: NewKind[] }) {
  return (
    <Modal title={t('msgr.newChannel')} onClose={onClose} wide>
      <p class="muted">{t('msgr.chooseKind')}</p>
      <div class="kind-grid">
        {KINDS.filter((k) => !kinds || kinds.includes(k.kind)).map((k) => (
          <button type="button" key={k.kind} class="kind-tile" onClick={() => onPick(k.kind)} data-testid={'kind-' + k.kind}>
            <ChannelBadge kind={k.kind} size={22} />
            <span class="kind-text">
              <strong>{kindName(k.kind)}</strong>
              <span class="muted small">{t(k.hint)}</span>
            </span>
            <Icon name="chevronDown" size={16} class="kind-go" />
          </button>
        ))}
      </div>
    </Modal>
  );
}

// ------------------------------------------------------------------ the form per kind

interface FieldSpec {
  key: string;
  label: TextKey;
  hint: TextKey;
  required?: boolean;
  secret?: boolean;
  pattern?: string;
  placeholder?: string;
  advanced?: boolean;
}

const NAME_PLACEHOLDER: Record<MessengerKind, string> = { whatsapp: 'WhatsApp', telegram: 'Telegram', instagram: 'Instagram' };

const FIELDS: Record<MessengerKind, FieldSpec[]> = {
  whatsapp: [
    { key: 'phone_number_id', label: 'msgr.f.phoneNumberId', hint: 'msgr.h.phoneNumberId', required: true, pattern: '[A-Za-z0-9_\\-]+', placeholder: '106540352242922' },
    { key: 'access_token', label: 'msgr.f.accessToken', hint: 'msgr.h.accessTokenWhatsapp', required: true, secret: true, placeholder: 'EAAG…' },
    { key: 'app_secret', label: 'msgr.f.appSecret', hint: 'msgr.h.appSecret', required: true, secret: true },
    { key: 'business_account_id', label: 'msgr.f.businessAccountId', hint: 'msgr.h.businessAccountId', pattern: '[A-Za-z0-9_\\-]+', placeholder: '102290129340398' },
    { key: 'verify_token', label: 'msgr.f.verifyToken', hint: 'msgr.h.verifyToken' },
    { key: 'api_base_url', label: 'msgr.f.apiBaseUrl', hint: 'msgr.h.apiBaseUrlMeta', advanced: true, placeholder: 'https://graph.facebook.com' },
  ],
  telegram: [
    { key: 'bot_token', label: 'msgr.f.botToken', hint: 'msgr.h.botToken', required: true, secret: true, pattern: '\\d+:[A-Za-z0-9_\\-]+', placeholder: '123456789:AAH…' },
    { key: 'secret_token', label: 'msgr.f.secretToken', hint: 'msgr.h.secretToken', pattern: '[A-Za-z0-9_\\-]{1,256}' },
    { key: 'api_base_url', label: 'msgr.f.apiBaseUrl', hint: 'msgr.h.apiBaseUrlTelegram', advanced: true, placeholder: 'https://api.telegram.org' },
  ],
  instagram: [
    { key: 'page_id', label: 'msgr.f.pageId', hint: 'msgr.h.pageId', required: true, pattern: '[A-Za-z0-9_\\-]+', placeholder: '5551234567' },
    { key: 'access_token', label: 'msgr.f.pageToken', hint: 'msgr.h.accessTokenInstagram', required: true, secret: true, placeholder: 'EAAG…' },
    { key: 'app_secret', label: 'msgr.f.appSecret', hint: 'msgr.h.appSecret', required: true, secret: true },
    { key: 'verify_token', label: 'msgr.f.verifyToken', hint: 'msgr.h.verifyToken' },
    { key: 'api_base_url', label: 'msgr.f.apiBaseUrl', hint: 'msgr.h.apiBaseUrlMeta', advanced: true, placeholder: 'https://graph.facebook.com' },
  ],
};

const INTRO: Record<MessengerKind, TextKey> = { whatsapp: 'msgr.intro.whatsapp', telegram: 'msgr.intro.telegram', instagram: 'msgr.intro.instagram' };

function SpecInput({ f, value, onInput, optional }: { f: FieldSpec; value: string; onInput: (v: string) => void; optional?: boolean }) {
  const label = t(f.label) + (!f.required || optional ? ' ' + t('msgr.optional') : '');
  return (
    <Field label={label} hint={t(f.hint)}>
      <input
        name={f.key}
        type={(f.secret ? 'password' : f.key === 'api_base_url' ? 'url' : 'text') as 'text'}
        autoComplete="off"
        spellcheck={false}
        required={f.required && !optional}
        pattern={f.pattern}
        placeholder={f.placeholder}
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
    </Field>
  );
}

/** Creates a WhatsApp, Telegram or Instagram channel, then shows how to connect it. */
export function MessengerSetup({ kind, onClose }: { kind: MessengerKind; onClose: () => void }) {
  const [name, setName] = useState('');
  const [v, setV] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [created, setCreated] = useState<Channel | null>(null);
  if (created) return <ConnectModal channel={created} verifyToken={created.verify_token} justCreated onClose={onClose} />;
  const fields = FIELDS[kind];
  const submit = async () => {
    setBusy(true);
    setError('');
    try {
      const body: Record<string, string> = { kind, name: name.trim() };
      for (const f of fields) if (v[f.key]?.trim()) body[f.key] = v[f.key].trim();
      const c = await post<Channel>('/channels', body);
      // The creator answers the channel's conversations until the members are edited.
      const members = await put<{ user_ids: number[] }>(`/channels/${c.id}/members`, { user_ids: [state.me!.id] }).catch(() => null);
      const stored = { ...c, member_ids: members?.user_ids ?? c.member_ids };
      delete stored.verify_token;
      delete stored.secret;
      state.channels = new Map(state.channels).set(c.id, stored);
      emit();
      setCreated(c);
    } catch (e) {
      setError(errText(e));
    }
    setBusy(false);
  };
  return (
    <Modal
      title={t('msgr.newOf', { kind: kindName(kind) })}
      onClose={onClose}
      wide
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" form="messenger-form" class="btn btn-primary" disabled={busy} data-testid="messenger-create">
            {busy && <Spinner size={13} />} {t('msgr.create')}
          </button>
        </>
      }
    >
      <form
        id="messenger-form"
        class="stack messenger-form"
        data-kind={kind}
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <div class="setup-intro">
          <ChannelBadge kind={kind} size={24} />
          <p>{t(INTRO[kind])}</p>
        </div>
        {error && (
          <div class="form-error" role="alert" data-testid="messenger-error">
            {error}
          </div>
        )}
        <Field label={t('channel.name')} hint={t('msgr.h.name')}>
          <input name="name" value={name} required placeholder={NAME_PLACEHOLDER[kind]} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <div class="grid2">
          {fields
            .filter((f) => !f.advanced)
            .map((f) => (
              <SpecInput key={f.key} f={f} value={v[f.key] ?? ''} onInput={(x) => setV({ ...v, [f.key]: x })} />
            ))}
        </div>
        <details class="advanced">
          <summary>{t('msgr.advanced')}</summary>
          {fields
            .filter((f) => f.advanced)
            .map((f) => (
              <SpecInput key={f.key} f={f} value={v[f.key] ?? ''} onInput={(x) => setV({ ...v, [f.key]: x })} />
            ))}
        </details>
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ connecting

export function CopyField({ label, value, id, hint }: { label: string; value: string; id: string; hint?: ComponentChildren }) {
  const [done, setDone] = useState(false);
  return (
    <div class="copy-field">
      <span class="field-label">{label}</span>
      <div class="copy-row">
        <code data-testid={id}>{value}</code>
        <button
          type="button"
          class="btn btn-sm"
          data-testid={id + '-copy'}
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(value);
            } catch {
              // Without clipboard access (plain http), select the text for Ctrl+C.
              const el = document.querySelector(`[data-testid="${id}"]`);
              if (el) getSelection()?.selectAllChildren(el);
            }
            setDone(true);
            setTimeout(() => setDone(false), 1500);
          }}
        >
          <Icon name={done ? 'check' : 'copy'} size={14} /> {done ? t('common.copied') : t('common.copy')}
        </button>
      </div>
      {hint && <span class="field-hint">{hint}</span>}
    </div>
  );
}

export const webhookUrl = (c: Channel) => location.origin + (c.webhook_url_to_configure ?? `/hooks/${c.kind}/${c.id}`);

/** What the provider knows the channel as, once a connection test learnt it. */
export function accountLabel(c: Channel): string {
  if (c.kind === 'whatsapp') return c.display_phone_number || (c.phone_number_id ? t('msgr.phoneId', { id: c.phone_number_id }) : '');
  if (c.kind === 'telegram') return c.bot_username ? '@' + c.bot_username : '';
  if (c.kind === 'instagram') return c.page_id ? t('msgr.pageIdShort', { id: c.page_id }) : '';
  return '';
}

const STEPS: Record<MessengerKind, TextKey> = { whatsapp: 'msgr.steps.whatsapp', telegram: 'msgr.steps.telegram', instagram: 'msgr.steps.instagram' };

/** The webhook URL and verify token to copy, and the connection test. */
export function ConnectPanel({ channel, verifyToken }: { channel: Channel; verifyToken?: string }) {
  const kind = channel.kind as MessengerKind;
  const [testing, setTesting] = useState(false);
  const [report, setReport] = useState<ConnectionReport | null>(null);
  const [error, setError] = useState('');
  const url = webhookUrl(channel);
  const test = async () => {
    setTesting(true);
    setError('');
    setReport(null);
    try {
      setReport(await post<ConnectionReport>(`/channels/${channel.id}/test-connection`, { webhook_base_url: location.origin }));
      // The test learns the number / bot name: show it in the list.
      const fresh = await get<Channel>(`/channels/${channel.id}`).catch(() => null);
      if (fresh) {
        state.channels = new Map(state.channels).set(fresh.id, fresh);
        emit();
      }
    } catch (e) {
      setError(errText(e));
    }
    setTesting(false);
  };
  return (
    <div class="connect-panel" data-testid="connect-panel">
      <p class="connect-steps">{t(STEPS[kind])}</p>
      {location.protocol !== 'https:' && (
        <p class="connect-warn small" role="note">
          <Icon name="alert" size={14} /> {t('msgr.httpsNeeded')}
        </p>
      )}
      <CopyField label={kind === 'telegram' ? t('msgr.webhookTelegram') : t('msgr.callbackUrl')} value={url} id="webhook-url" />
      {verifyToken && <CopyField label={t('msgr.f.verifyToken')} value={verifyToken} id="verify-token" hint={t('msgr.verifyOnce')} />}
      <div class="connect-test">
        <button type="button" class="btn" onClick={test} disabled={testing} data-testid="test-connection">
          {testing ? <Spinner size={14} /> : <Icon name="refresh" size={15} />} {t('msgr.test')}
        </button>
        <span class="muted small">{kind === 'telegram' ? t('msgr.testHintTelegram') : t('msgr.testHint')}</span>
      </div>
      {error && <div class="form-error">{error}</div>}
      {report && (
        <div class={'connect-result ' + (report.ok ? 'ok' : 'bad')} role="status" data-testid="connection-result" data-ok={String(report.ok)}>
          <Icon name={report.ok ? 'checkCircle' : 'alert'} size={18} />
          <div>
            <strong>{report.ok ? t('msgr.testOk') : t('msgr.testFailed')}</strong>
            {report.account && <span class="connect-account"> · {report.account}</span>}
            <div class="small">{report.detail}</div>
            {report.webhook_url && <div class="small muted">{t('msgr.webhookSet', { url: report.webhook_url })}</div>}
          </div>
        </div>
      )}
    </div>
  );
}

/** After creation (with the verify token, shown this once), or from the list for an existing channel. */
export function ConnectModal({ channel, verifyToken, justCreated, onClose }: { channel: Channel; verifyToken?: string; justCreated?: boolean; onClose: () => void }) {
  return (
    <Modal
      title={t('msgr.connectTitle', { name: channel.name })}
      onClose={onClose}
      wide
      footer={
        <button type="button" class="btn btn-primary" onClick={onClose} data-testid="connect-done">
          {t('common.done')}
        </button>
      }
    >
      {justCreated && (
        <div class="created-note" role="status">
          <Icon name="checkCircle" size={16} /> {t('msgr.created')}
        </div>
      )}
      <ConnectPanel channel={channel} verifyToken={verifyToken} />
      {!justCreated && <Credentials channel={channel} />}
    </Modal>
  );
}

const RANDOM = () => Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, '0')).join('');

/** Replaces credentials of an existing channel (only the fields filled in are sent). */
function Credentials({ channel }: { channel: Channel }) {
  const kind = channel.kind as MessengerKind;
  const fields = FIELDS[kind].filter((f) => f.key !== 'phone_number_id' && f.key !== 'page_id');
  const [v, setV] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string> = {};
    for (const f of fields) if (v[f.key]?.trim()) body[f.key] = v[f.key].trim();
    if (!Object.keys(body).length) return;
    setBusy(true);
    setError('');
    try {
      const c = await patch<Channel>(`/channels/${channel.id}`, body);
      state.channels = new Map(state.channels).set(c.id, c);
      emit();
      setSaved(body.verify_token ?? '');
      setV({});
    } catch (err) {
      setError(errText(err));
    }
    setBusy(false);
  };
  return (
    <details class="advanced credentials">
      <summary>{t('msgr.replaceCredentials')}</summary>
      <form class="stack" onSubmit={save}>
        <p class="muted small">{t('msgr.replaceHint')}</p>
        {error && <div class="form-error">{error}</div>}
        {saved !== null && (
          <div class="created-note" role="status">
            <Icon name="check" size={15} /> {t('common.saved')}
            {saved && (
              <>
                {' · '}
                {t('msgr.f.verifyToken')}: <code>{saved}</code>
              </>
            )}
          </div>
        )}
        <div class="grid2">
          {fields.map((f) => (
            <div key={f.key} class="cred-field">
              <SpecInput f={f} optional value={v[f.key] ?? ''} onInput={(x) => setV({ ...v, [f.key]: x })} />
              {f.key === 'verify_token' && (
                <button type="button" class="link-btn small" onClick={() => setV({ ...v, verify_token: RANDOM() })}>
                  {t('msgr.generate')}
                </button>
              )}
            </div>
          ))}
        </div>
        <div>
          <button type="submit" class="btn" disabled={busy || !fields.some((f) => v[f.key]?.trim())}>
            {t('common.save')}
          </button>
        </div>
      </form>
    </details>
  );
}
