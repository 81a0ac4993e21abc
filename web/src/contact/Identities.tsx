// The contact's identities on each channel, and merging another contact into this one
// (the same person writing from WhatsApp and Telegram, say).
import { useEffect, useState } from 'preact/hooks';
import { get, post, qs } from '../api';
import { ChannelIcon } from '../channelIcons';
import { t } from '../i18n';
import { Icon } from '../icons';
import { putContact, toastError } from '../store';
import type { Contact, Id } from '../types';
import { Modal, Spinner } from '../ui';

interface Identity {
  id: Id;
  channel_id: Id;
  channel_kind: string;
  channel_name: string;
  external_id: string;
  name: string;
  username: string | null;
  phone?: string | null;
}

export function Identities({ contact, onMerged }: { contact: Contact; onMerged: () => void }) {
  const [list, setList] = useState<Identity[] | null>(null);
  const [rev, setRev] = useState(0);
  const [merging, setMerging] = useState(false);
  useEffect(() => {
    let live = true;
    get<Identity[]>(`/contacts/${contact.id}/identities`)
      .then((l) => live && setList(l))
      .catch(() => live && setList([]));
    return () => {
      live = false;
    };
  }, [contact.id, rev]);
  return (
    <section class="panel-section" data-testid="identities">
      <h3>{t('contact.identities')}</h3>
      {list === null ? (
        <Spinner />
      ) : (
        <ul class="identities">
          {list.map((i) => (
            <li key={i.id}>
              <ChannelIcon kind={i.channel_kind} size={14} />
              <span class="grow ellipsis">
                {i.channel_name} · {i.username ? '@' + i.username.replace(/^@/, '') : i.phone || i.external_id}
              </span>
            </li>
          ))}
        </ul>
      )}
      <button type="button" class="btn btn-sm" onClick={() => setMerging(true)} data-testid="contact-merge">
        <Icon name="users" size={14} /> {t('contact.merge')}
      </button>
      {merging && (
        <MergeDialog
          contact={contact}
          onClose={() => setMerging(false)}
          onMerged={() => {
            setMerging(false);
            setRev((r) => r + 1);
            onMerged();
          }}
        />
      )}
    </section>
  );
}

function MergeDialog({ contact, onClose, onMerged }: { contact: Contact; onClose: () => void; onMerged: () => void }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Contact[] | null>(null);
  const [pick, setPick] = useState<Contact | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const term = q.trim();
    if (term.length < 4) {
      setFound(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      get<{ items: Contact[] }>('/contacts' + qs({ q: term, limit: 20 }))
        .then((r) => live && setFound(r.items.filter((c) => c.id !== contact.id)))
        .catch(() => live && setFound([]));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [q, contact.id]);
  const merge = async () => {
    if (!pick) return;
    setBusy(true);
    try {
      putContact(await post<Contact>(`/contacts/${contact.id}/merge`, { contact_id: pick.id }));
      onMerged();
    } catch (e) {
      toastError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t('contact.mergeTitle', { name: contact.name })}
      onClose={onClose}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="button" class="btn btn-primary" disabled={!pick || busy} onClick={merge} data-testid="merge-confirm">
            {t('contact.mergeConfirm')}
          </button>
        </>
      }
    >
      <p class="muted small">{t('contact.mergeHint')}</p>
      <input
        class="input"
        type="search"
        value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        placeholder={t('contact.mergeSearch')}
        aria-label={t('contact.mergeSearch')}
        data-testid="merge-search"
        autofocus
      />
      {found !== null && !found.length && <p class="muted small">{t('contact.mergeNone')}</p>}
      <ul class="merge-results" role="listbox" aria-label={t('contact.mergeSearch')}>
        {(found ?? []).map((c) => (
          <li key={c.id}>
            <button
              type="button"
              role="option"
              aria-selected={pick?.id === c.id}
              class={'merge-option' + (pick?.id === c.id ? ' selected' : '')}
              onClick={() => setPick(c)}
              data-testid="merge-option"
            >
              <strong>{c.name}</strong>
              <span class="muted small">{[c.phone, c.email, c.telegram_username].filter(Boolean).join(' · ')}</span>
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
