import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, post, upload } from './api';
import { EmojiPicker } from './EmojiPicker';
import { t } from './i18n';
import { Icon } from './icons';
import { canManageSettings, contactName, emit, errText, flushDraft, send, sendTyping, setDraft, state, toast, useStore } from './store';
import type { Attachment, CannedResponse, Id, Message } from './types';
import { Dropdown, Field, Modal, Spinner, formatSize } from './ui';
import { isMessenger } from './channelIcons';
import { TemplatePicker } from './composer/TemplatePicker';
import { WindowIndicator, useReplyWindow } from './composer/WindowIndicator';

export interface ComposerHandle {
  focus(note: boolean): void;
  quote(m: Message): void;
  createCanned(m: Message): void;
  addFiles(files: FileList | File[]): void;
}

interface PendingFile {
  key: number;
  name: string;
  size: number;
  progress: number;
  att?: Attachment;
  error?: string;
}

let fileKey = 0;

/** Length as the channel counts it (website and API: without whitespace). */
export function messageLength(kind: string | undefined, text: string): number {
  const chars = [...text];
  return kind === 'website' || kind === 'api' ? chars.filter((c) => !/\s/.test(c)).length : chars.length;
}

export function Composer({ id, handle }: { id: Id; handle: { current: ComposerHandle | null } }) {
  const conv = useStore((s) => s.convs.get(id));
  const channel = useStore((s) => (conv ? s.channels.get(conv.channel_id) : undefined));
  const canned = useStore((s) => s.canned);
  const text = useStore((s) => s.drafts.get(id) ?? s.convs.get(id)?.draft ?? '');
  const [note, setNote] = useState(false);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [suggest, setSuggest] = useState<{ kind: ':' | '!'; query: string; start: number; index: number } | null>(null);
  const [cannedFrom, setCannedFrom] = useState<Message | null>(null);
  const ta = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);

  const blocked = !!conv?.contact?.blocked;
  // WhatsApp / Instagram: free text only within 24 hours of the contact's last message.
  const win = useReplyWindow(id);
  const windowClosed = !note && win.state === 'closed';
  const limit = channel?.max_message_length ?? 0;
  const length = messageLength(channel?.kind, text);
  const over = !note && limit > 0 && length > limit;
  const uploading = files.some((f) => !f.att && !f.error);
  const ready = files.filter((f) => f.att).map((f) => f.att!);
  const canSend = (text.trim().length > 0 || ready.length > 0) && !over && !uploading && !(blocked && !note) && !windowClosed;

  const autosize = () => {
    const el = ta.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = Math.min(el.scrollHeight, 240) + 'px';
  };
  useLayoutEffect(autosize, [text]);
  useEffect(() => () => flushDraft(id), [id]);

  const addFiles = (list: FileList | File[]) => {
    const arr = [...list];
    if (!arr.length) return;
    const pend = arr.map((f) => ({ key: ++fileKey, name: f.name, size: f.size, progress: 0 }));
    setFiles((cur) => [...cur, ...pend]);
    arr.forEach((file, i) => {
      const key = pend[i].key;
      upload(file, (p) => setFiles((cur) => cur.map((x) => (x.key === key ? { ...x, progress: p } : x))))
        .then((att) => setFiles((cur) => cur.map((x) => (x.key === key ? { ...x, att, progress: 1 } : x))))
        .catch((e) => setFiles((cur) => cur.map((x) => (x.key === key ? { ...x, error: errText(e) } : x))));
    });
  };

  handle.current = {
    focus(n: boolean) {
      setNote(n);
      ta.current?.focus();
    },
    quote(m: Message) {
      setReplyTo(m);
      ta.current?.focus();
    },
    createCanned(m: Message) {
      setCannedFrom(m);
    },
    addFiles,
  };

  const update = (v: string, caret?: number) => {
    setDraft(id, v);
    const now = Date.now();
    if (!note && v && now - lastTyping.current > 2500) {
      lastTyping.current = now;
      sendTyping(id);
    }
    const pos = caret ?? v.length;
    const before = v.slice(0, pos);
    const m = before.match(/(^|\s)([:!])([^\s:!]*)$/);
    if (m && (m[2] === '!' || m[3].length >= 1)) {
      setSuggest({ kind: m[2] as ':' | '!', query: m[3], start: pos - m[3].length - 1, index: 0 });
    } else setSuggest(null);
  };

  const options: CannedResponse[] = suggest
    ? canned
        .filter((c) => {
          const q = suggest.query.toLowerCase();
          if (suggest.kind === ':') return c.shortcut.toLowerCase().startsWith(q);
          return !q || c.shortcut.toLowerCase().includes(q) || c.text.toLowerCase().includes(q);
        })
        .slice(0, 8)
    : [];

  const pick = (c: CannedResponse) => {
    if (!suggest) return;
    const el = ta.current!;
    const caret = el.selectionStart ?? text.length;
    const filled = fillTemplate(c.text);
    const next = text.slice(0, suggest.start) + filled + text.slice(caret);
    setDraft(id, next);
    setSuggest(null);
    requestAnimationFrame(() => {
      el.focus();
      const p = suggest.start + filled.length;
      el.setSelectionRange(p, p);
    });
  };

  const fillTemplate = (s: string) => {
    const c = state.convs.get(id);
    const me = state.me;
    return s
      .replace(/\{\{\s*contact\.name\s*\}\}/g, contactName(c))
      .replace(/\{\{\s*agent\.name\s*\}\}/g, me?.display_name || me?.name || '');
  };

  const doSend = () => {
    if (text.trim() === '/history' && !files.length) {
      // The website visitor's last pages, as an internal note.
      post(`/conversations/${id}/visitor/history`).catch((e) => toast({ kind: 'error', title: errText(e), text: '' }));
      setDraft(id, '');
      flushDraft(id);
      return;
    }
    if (!canSend) {
      if (over) toast({ kind: 'error', title: t('composer.tooLong'), text: t('composer.tooLongText', { limit }) });
      return;
    }
    send(id, { text: text.trim() ? text : '', note, replyTo: replyTo?.id ?? null, attachments: ready });
    setDraft(id, '');
    flushDraft(id);
    setFiles([]);
    setReplyTo(null);
    setSuggest(null);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (suggest && options.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const d = e.key === 'ArrowDown' ? 1 : -1;
        setSuggest({ ...suggest, index: (suggest.index + d + options.length) % options.length });
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(options[Math.min(suggest.index, options.length - 1)]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setSuggest(null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey) {
      e.preventDefault();
      doSend();
    } else if (e.key === 'Escape') {
      if (replyTo) setReplyTo(null);
      else (e.currentTarget as HTMLElement).blur();
    }
  };

  const insert = (s: string) => {
    const el = ta.current!;
    const a = el.selectionStart ?? text.length;
    const b = el.selectionEnd ?? text.length;
    const next = text.slice(0, a) + s + text.slice(b);
    setDraft(id, next);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(a + s.length, a + s.length);
    });
  };

  const counterClass = over ? 'counter over' : limit && length > limit * 0.9 ? 'counter near' : 'counter';

  return (
    <div
      class={'composer' + (note ? ' note-mode' : '')}
      data-testid="composer"
    >
      <div class="composer-tabs" role="tablist" aria-label={t('composer.mode')}>
        <button type="button" role="tab" aria-selected={!note} class={!note ? 'active' : ''} onClick={() => setNote(false)} data-testid="mode-reply">
          {t('composer.reply')}
        </button>
        <button type="button" role="tab" aria-selected={note} class={note ? 'active' : ''} onClick={() => setNote(true)} data-testid="mode-note">
          <Icon name="lock" size={13} /> {t('composer.note')}
        </button>
        <span class="grow" />
        {!note && <WindowIndicator w={win} />}
        {!note && limit > 0 && (
          <span class={counterClass} data-testid="counter" title={channel?.kind === 'website' || channel?.kind === 'api' ? t('composer.counterNoSpaces') : undefined}>
            {length} / {limit}
          </span>
        )}
      </div>
      {blocked && !note && (
        <div class="composer-warning" role="alert">
          <Icon name="ban" size={15} /> {t('composer.blocked')}
        </div>
      )}
      {windowClosed && (
        <div class="composer-warning win-warning" role="status" data-testid="window-warning">
          <Icon name="clock" size={15} /> {win.kind === 'whatsapp' ? t('window.warnWhatsapp') : t('window.warnInstagram')}
        </div>
      )}
      {replyTo && (
        <div class="reply-chip">
          <Icon name="reply" size={14} />
          <span class="grow">
            <strong>{replyTo.author.name}</strong> {replyTo.text || replyTo.attachments[0]?.name}
          </span>
          <button type="button" class="icon-btn sm" onClick={() => setReplyTo(null)} aria-label={t('composer.cancelQuote')}>
            <Icon name="x" size={14} />
          </button>
        </div>
      )}
      {files.length > 0 && (
        <div class="file-chips">
          {files.map((f) => (
            <span key={f.key} class={'file-chip' + (f.error ? ' error' : '')} title={f.error}>
              {f.att ? <Icon name="file" size={14} /> : f.error ? <Icon name="alert" size={14} /> : <Spinner size={12} />}
              <span class="fc-name">{f.name}</span>
              <span class="muted">{f.error ? t('composer.uploadFailed') : f.att ? formatSize(f.size) : Math.round(f.progress * 100) + '%'}</span>
              <button type="button" class="icon-btn xs" onClick={() => setFiles((cur) => cur.filter((x) => x.key !== f.key))} aria-label={t('composer.removeFile', { name: f.name })}>
                <Icon name="x" size={12} />
              </button>
            </span>
          ))}
        </div>
      )}
      <div class="composer-box">
        {suggest && (
          <div class="suggest" role="listbox" aria-label={t('canned.title')}>
            {options.length ? (
              options.map((c, i) => (
                <div
                  key={c.id}
                  role="option"
                  aria-selected={i === suggest.index}
                  class={'suggest-item' + (i === suggest.index ? ' active' : '')}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    pick(c);
                  }}
                >
                  <code>:{c.shortcut}</code>
                  <span class="suggest-text">{c.text}</span>
                  {c.personal && <span class="muted small">{t('canned.personal')}</span>}
                </div>
              ))
            ) : (
              <div class="suggest-empty muted">{canned.length ? t('canned.noMatch') : t('canned.none')}</div>
            )}
          </div>
        )}
        <textarea
          ref={ta}
          rows={1}
          value={text}
          disabled={windowClosed}
          placeholder={windowClosed ? (win.kind === 'whatsapp' ? t('window.placeholderWhatsapp') : t('window.placeholderInstagram')) : blocked && !note ? t('composer.blockedShort') : note ? t('composer.notePlaceholder') : t('composer.placeholder')}
          aria-label={note ? t('composer.note') : t('composer.reply')}
          onInput={(e) => update(e.currentTarget.value, e.currentTarget.selectionStart ?? undefined)}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setSuggest(null), 150)}
          onPaste={(e) => {
            const fl = e.clipboardData?.files;
            if (fl && fl.length) {
              e.preventDefault();
              addFiles(fl);
            }
          }}
          data-testid="composer-input"
        />
      </div>
      <div class="composer-bar">
        <Dropdown
          label={t('composer.emoji')}
          align="left"
          up
          button={(p) => (
            <button type="button" class="icon-btn" {...p} title={t('composer.emoji')} data-testid="emoji-button">
              <Icon name="smile" />
            </button>
          )}
        >
          {() => <EmojiPicker onPick={(e) => insert(e)} />}
        </Dropdown>
        <button type="button" class="icon-btn" onClick={() => fileInput.current?.click()} aria-label={t('composer.attach')} title={t('composer.attach')}>
          <Icon name="paperclip" />
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(e) => {
            if (e.currentTarget.files) addFiles(e.currentTarget.files);
            e.currentTarget.value = '';
          }}
        />
        <button
          type="button"
          class="icon-btn"
          onClick={() => {
            const el = ta.current!;
            const pos = el.selectionStart ?? text.length;
            const pre = pos > 0 && !/\s/.test(text[pos - 1]) ? ' !' : '!';
            insert(pre);
            setTimeout(() => update(el.value, el.selectionStart ?? undefined), 0);
          }}
          aria-label={t('canned.title')}
          title={t('canned.hint')}
        >
          <Icon name="zap" />
        </button>
        {!note && channel && isMessenger(channel.kind) && (
          <TemplatePicker convId={id} channel={channel} highlight={windowClosed && win.kind === 'whatsapp'} disabled={windowClosed && win.kind === 'instagram'} />
        )}
        <span class="grow" />
        <span class="muted small hint-keys">{t('composer.enterHint')}</span>
        <button type="button" class={'btn ' + (note ? 'btn-note' : 'btn-primary')} onClick={doSend} disabled={!canSend} data-testid="send">
          <Icon name={note ? 'lock' : 'send'} size={15} /> {note ? t('composer.addNote') : t('composer.send')}
        </button>
      </div>
      {cannedFrom && <CannedFromMessage m={cannedFrom} onClose={() => setCannedFrom(null)} />}
    </div>
  );
}

function CannedFromMessage({ m, onClose }: { m: Message; onClose: () => void }) {
  const [shortcut, setShortcut] = useState('');
  const [text, setText] = useState(m.text);
  const [personal, setPersonal] = useState(!canManageSettings());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const c = await post<CannedResponse>('/canned-responses', { shortcut: shortcut.replace(/^[:!]/, ''), text, personal });
      state.canned = [...state.canned, c];
      emit();
      toast({ kind: 'info', title: t('canned.created'), text: ':' + c.shortcut });
      onClose();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t('canned.createTitle')}
      onClose={onClose}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" form="canned-form" class="btn btn-primary" disabled={busy || !shortcut.trim() || !text.trim()}>
            {t('common.save')}
          </button>
        </>
      }
    >
      <form id="canned-form" onSubmit={save} class="stack">
        {error && (
          <div class="form-error" role="alert">
            {error}
          </div>
        )}
        <Field label={t('canned.shortcut')} hint={t('canned.shortcutHint')}>
          <input value={shortcut} onInput={(e) => setShortcut(e.currentTarget.value)} required autofocus pattern="[:!]?[\p{L}\p{N}_\-\.]+" />
        </Field>
        <Field label={t('canned.text')}>
          <textarea rows={5} value={text} onInput={(e) => setText(e.currentTarget.value)} required />
        </Field>
        <label class="check-row">
          <input type="checkbox" checked={personal} disabled={!canManageSettings()} onChange={(e) => setPersonal(e.currentTarget.checked)} />
          {t('canned.personalOnly')}
        </label>
      </form>
    </Modal>
  );
}

