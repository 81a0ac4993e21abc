// Settings → Channels → Templates of a messenger channel: the list with review statuses;
// WhatsApp's are synced from WhatsApp Manager, Telegram's and Instagram's written here.
import { useEffect, useState } from 'preact/hooks';
import { del, post } from '../api';
import { t, type TextKey } from '../i18n';
import { Icon } from '../icons';
import { errText, toastError } from '../store';
import { loadTemplates, setCachedTemplates, templatePieces } from '../templates';
import type { Channel, Template } from '../types';
import { Field, Modal, Spinner } from '../ui';
import './setup.css';

const CATEGORIES = ['', 'utility', 'marketing', 'authentication'] as const;

export function TemplatesModal({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const [list, setList] = useState<Template[] | null>(null);
  const [error, setError] = useState('');
  const [syncing, setSyncing] = useState(false);
  const [adding, setAdding] = useState(false);
  const whatsapp = channel.kind === 'whatsapp';
  const update = (l: Template[]) => {
    const sorted = [...l].sort((a, b) => a.name.localeCompare(b.name) || a.language.localeCompare(b.language));
    setCachedTemplates(channel.id, sorted);
    setList(sorted);
  };
  useEffect(() => {
    loadTemplates(channel.id).then(update, (e) => setError(errText(e)));
  }, [channel.id]);
  const sync = async () => {
    setSyncing(true);
    setError('');
    try {
      update(await post<Template[]>(`/channels/${channel.id}/templates/sync`, {}));
    } catch (e) {
      setError(errText(e));
    }
    setSyncing(false);
  };
  const remove = async (x: Template) => {
    if (!confirm(t('common.confirmDelete', { name: `${x.name} (${x.language})` }))) return;
    try {
      await del(`/templates/${x.id}`);
      update((list ?? []).filter((y) => y.id !== x.id));
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <Modal
      title={t('tpl.manageTitle', { name: channel.name })}
      onClose={onClose}
      wide
      footer={
        <button type="button" class="btn btn-primary" onClick={onClose}>
          {t('common.done')}
        </button>
      }
    >
      <div class="tpl-admin" data-testid="templates-modal">
        <div class="tpl-admin-head">
          <p class="muted small grow">{whatsapp ? t('tpl.introWhatsapp') : t('tpl.introOwn')}</p>
          {whatsapp ? (
            <button type="button" class="btn btn-sm" onClick={sync} disabled={syncing} data-testid="templates-sync">
              {syncing ? <Spinner size={13} /> : <Icon name="refresh" size={14} />} {t('tpl.sync')}
            </button>
          ) : (
            !adding && (
              <button type="button" class="btn btn-sm btn-primary" onClick={() => setAdding(true)} data-testid="template-new">
                <Icon name="plus" size={14} /> {t('tpl.new')}
              </button>
            )
          )}
        </div>
        {whatsapp && !channel.business_account_id && <p class="connect-warn small">{t('tpl.needWaba')}</p>}
        {error && <div class="form-error">{error}</div>}
        {adding && (
          <NewTemplate
            channel={channel}
            onCancel={() => setAdding(false)}
            onCreated={(x) => {
              update([...(list ?? []), x]);
              setAdding(false);
            }}
          />
        )}
        {!list && !error && (
          <div class="center small-pad">
            <Spinner />
          </div>
        )}
        {list && !list.length && <p class="empty-note">{whatsapp ? t('tpl.noneWhatsapp') : t('tpl.noneOwn')}</p>}
        {list && list.length > 0 && (
          <table class="table tpl-table">
            <thead>
              <tr>
                <th>{t('tpl.name')}</th>
                <th>{t('tpl.body')}</th>
                <th>{t('tpl.status')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((x) => (
                <tr key={x.id} data-testid="template-row" data-name={x.name}>
                  <td class="nowrap">
                    <code>{x.name}</code>
                    <div class="muted small">
                      {x.language}
                      {x.category && ' · ' + t(('tpl.cat.' + x.category) as TextKey)}
                    </div>
                  </td>
                  <td class="tpl-body-cell">
                    {templatePieces(x.body).map((p, i) => (typeof p === 'number' ? <span key={i} class="tpl-ph">{`{{${p}}}`}</span> : p))}
                  </td>
                  <td>
                    <span class={'tpl-status tpl-' + x.status} title={x.rejection_reason ?? undefined} data-testid="template-status">
                      {t(('tpl.st.' + x.status) as TextKey)}
                    </span>
                    {x.rejection_reason && <div class="small tpl-reason">{x.rejection_reason}</div>}
                  </td>
                  <td class="right">
                    <button type="button" class="icon-btn" onClick={() => remove(x)} aria-label={t('common.delete') + ' ' + x.name} title={whatsapp ? t('tpl.deleteSyncedHint') : t('common.delete')}>
                      <Icon name="trash" size={16} />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Modal>
  );
}

function NewTemplate({ channel, onCancel, onCreated }: { channel: Channel; onCancel: () => void; onCreated: (x: Template) => void }) {
  const [f, setF] = useState({ name: '', language: document.documentElement.lang || 'en', category: '', body: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onCreated(await post<Template>(`/channels/${channel.id}/templates`, { ...f, category: f.category || undefined }));
    } catch (err) {
      setError(errText(err));
      setBusy(false);
    }
  };
  return (
    <form class="card stack tpl-new" onSubmit={submit} data-testid="template-form">
      {error && <div class="form-error">{error}</div>}
      <div class="grid3">
        <Field label={t('tpl.name')} hint={t('tpl.nameHint')}>
          <input name="name" value={f.name} required pattern="[a-z0-9_]+" placeholder="order_ready" onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
        </Field>
        <Field label={t('tpl.language')}>
          <input name="language" value={f.language} required maxLength={20} onInput={(e) => setF({ ...f, language: e.currentTarget.value })} />
        </Field>
        <Field label={t('tpl.category')}>
          <select name="category" value={f.category} onChange={(e) => setF({ ...f, category: e.currentTarget.value })}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c ? t(('tpl.cat.' + c) as TextKey) : '—'}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field label={t('tpl.body')} hint={t('tpl.bodyHint')}>
        <textarea name="body" rows={3} value={f.body} required maxLength={1024} placeholder={t('tpl.bodyPlaceholder')} onInput={(e) => setF({ ...f, body: e.currentTarget.value })} />
      </Field>
      <div class="row-gap">
        <button type="submit" class="btn btn-primary btn-sm" disabled={busy} data-testid="template-save">
          {t('common.save')}
        </button>
        <button type="button" class="btn btn-sm" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
