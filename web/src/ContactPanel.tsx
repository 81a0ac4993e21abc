import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, patch, post } from './api';
import { fullTime, listTime, t } from './i18n';
import { Icon, channelIcon } from './icons';
import { canManageSettings, contactName, emit, loadContact, navigate, setBlocked, setContactTags, togglePanel, shallowArray, state, toastError, updateContact, useStore } from './store';
import type { Contact, Conversation, Id, Tag } from './types';
import { Avatar, Dropdown, Spinner } from './ui';
import { Identities } from './contact/Identities';

const TAG_COLORS = ['#6366f1', '#0ea5e9', '#10b981', '#f59e0b', '#ef4444', '#ec4899', '#8b5cf6', '#64748b'];

export function ContactPanel({ id }: { id: Id }) {
  const conv = useStore((s) => s.convs.get(id));
  const contactId = conv?.contact?.id;
  const contact = useStore((s) => (contactId ? s.contacts.get(contactId) : undefined));
  useEffect(() => {
    if (contactId && !state.contacts.has(contactId)) loadContact(contactId);
  }, [contactId]);
  return (
    <aside class="contact-panel" aria-label={t('contact.title')} data-testid="contact-panel">
      <header class="panel-head">
        <h2>{t('contact.title')}</h2>
        <button type="button" class="icon-btn" onClick={() => togglePanel(false)} aria-label={t('common.close')}>
          <Icon name="x" />
        </button>
      </header>
      {!conv ? null : !contactId ? (
        <div class="panel-body">
          <p class="muted">{t('contact.detached')}</p>
          {conv.identity && (
            <dl class="props">
              <dt>{t('contact.identity')}</dt>
              <dd>
                {conv.identity.name} <span class="muted">({conv.identity.external_id})</span>
              </dd>
            </dl>
          )}
        </div>
      ) : !contact ? (
        <div class="center">
          <Spinner />
        </div>
      ) : (
        <ContactBody contact={contact} conv={conv} />
      )}
    </aside>
  );
}

function ContactBody({ contact, conv }: { contact: Contact; conv: Conversation }) {
  const [editing, setEditing] = useState(false);
  // Bumped after a merge so the list of the contact's conversations is read again.
  const [merges, setMerges] = useState(0);
  const channel = state.channels.get(conv.channel_id);
  return (
    <div class="panel-body">
      <div class="contact-card">
        <Avatar name={contact.name || contactName(conv)} url={contact.avatar_url} size={64} />
        <div class="contact-name">{contact.name || contactName(conv)}</div>
        {channel && (
          <div class="muted small">
            <Icon name={channelIcon(channel.kind)} size={13} /> {channel.name}
          </div>
        )}
        {contact.blocked && <span class="status-chip status-blocked">{t('contact.blocked')}</span>}
      </div>
      {editing ? (
        <ContactForm contact={contact} onDone={() => setEditing(false)} />
      ) : (
        <>
          <dl class="props">
            <Prop icon="phone" label={t('contact.phone')} value={contact.phone} href={contact.phone ? 'tel:' + contact.phone.replace(/[^\d+]/g, '') : undefined} />
            <Prop icon="mail" label={t('contact.email')} value={contact.email} href={contact.email ? 'mailto:' + contact.email : undefined} />
            <Prop icon="telegram" label={t('contact.telegram')} value={contact.telegram_username ? '@' + contact.telegram_username.replace(/^@/, '') : null} />
            <Prop icon="telegram" label={t('contact.telegramId')} value={contact.telegram_id} />
            <Prop icon="globe" label={t('contact.source')} value={contact.source} />
            <Prop icon="clock" label={t('contact.since')} value={fullTime(contact.created_at)} />
          </dl>
          <div class="panel-actions">
            <button type="button" class="btn btn-sm" onClick={() => setEditing(true)} data-testid="contact-edit">
              <Icon name="edit" size={14} /> {t('common.edit')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => setBlocked(contact.id, !contact.blocked)}>
              <Icon name="ban" size={14} /> {contact.blocked ? t('action.unblock') : t('action.block')}
            </button>
          </div>
        </>
      )}
      {channel?.kind === 'website' && <VisitorSection conv={conv} />}
      <TagsSection contact={contact} />
      <Attributes contact={contact} />
      <Identities contact={contact} onMerged={() => setMerges((n) => n + 1)} />
      <OtherConversations key={merges} contact={contact} current={conv.id} />
    </div>
  );
}

function Prop({ icon, label, value, href }: { icon: import('./icons').IconName; label: string; value: string | null | undefined; href?: string }) {
  return (
    <>
      <dt>
        <Icon name={icon} size={14} /> {label}
      </dt>
      <dd>{value ? href ? <a href={href}>{value}</a> : value : <span class="muted">—</span>}</dd>
    </>
  );
}

function ContactForm({ contact, onDone }: { contact: Contact; onDone: () => void }) {
  const [f, setF] = useState({
    name: contact.name,
    phone: contact.phone ?? '',
    email: contact.email ?? '',
    telegram_username: contact.telegram_username ?? '',
    source: contact.source ?? '',
    avatar_url: contact.avatar_url ?? '',
  });
  const [busy, setBusy] = useState(false);
  const field = (k: keyof typeof f, label: string, type: 'text' | 'tel' | 'email' | 'url' = 'text') => (
    <label class="field">
      <span class="field-label">{label}</span>
      <input type={type as 'text'} value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} name={k} />
    </label>
  );
  return (
    <form
      class="stack contact-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        const ok = await updateContact(contact.id, {
          name: f.name,
          phone: f.phone || null,
          email: f.email || null,
          telegram_username: f.telegram_username || null,
          source: f.source || null,
          avatar_url: f.avatar_url || null,
        });
        setBusy(false);
        if (ok) onDone();
      }}
    >
      {field('name', t('contact.name'))}
      {field('phone', t('contact.phone'), 'tel')}
      {field('email', t('contact.email'), 'email')}
      {field('telegram_username', t('contact.telegram'))}
      {field('source', t('contact.source'))}
      {field('avatar_url', t('contact.avatar'), 'url')}
      <div class="row-gap">
        <button type="submit" class="btn btn-primary btn-sm" disabled={busy}>
          {t('common.save')}
        </button>
        <button type="button" class="btn btn-sm" onClick={onDone}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function TagsSection({ contact }: { contact: Contact }) {
  const all = useStore((s) => [...s.tags.values()], shallowArray);
  const [q, setQ] = useState('');
  const mine = contact.tag_ids.map((id) => all.find((x) => x.id === id)).filter(Boolean) as Tag[];
  const manage = canManageSettings();
  const toggle = (tg: Tag) => {
    const has = contact.tag_ids.includes(tg.id);
    setContactTags(contact.id, has ? contact.tag_ids.filter((x) => x !== tg.id) : [...contact.tag_ids, tg.id]);
  };
  const updateTag = async (tg: Tag, p: Partial<Tag>) => {
    try {
      const n = await patch<Tag>(`/tags/${tg.id}`, p);
      state.tags = new Map(state.tags).set(n.id, n);
      emit();
    } catch (e) {
      toastError(e);
    }
  };
  const create = async () => {
    const name = q.trim();
    if (!name) return;
    try {
      const tg = await post<Tag>('/tags', { name, color: TAG_COLORS[all.length % TAG_COLORS.length] });
      state.tags = new Map(state.tags).set(tg.id, tg);
      setQ('');
      setContactTags(contact.id, [...contact.tag_ids, tg.id]);
    } catch (e) {
      toastError(e);
    }
  };
  const shown = all.filter((x) => !q || x.name.toLowerCase().includes(q.toLowerCase()));
  return (
    <section class="panel-section">
      <h3>{t('contact.tags')}</h3>
      <div class="tag-list">
        {mine.map((tg) => (
          <span key={tg.id} class="tag-chip" style={{ '--tag': tg.color }}>
            {tg.pinned && <Icon name="pin" size={11} />}
            {tg.name}
            <button type="button" class="chip-x" onClick={() => toggle(tg)} aria-label={t('contact.removeTag', { name: tg.name })}>
              <Icon name="x" size={11} />
            </button>
          </span>
        ))}
        <Dropdown
          label={t('contact.addTag')}
          align="right"
          button={(p) => (
            <button type="button" class="tag-add" {...p} data-testid="add-tag">
              <Icon name="plus" size={12} /> {t('contact.addTag')}
            </button>
          )}
        >
          {() => (
            <div class="menu menu-scroll tag-menu">
              <div class="menu-search">
                <input
                  type="search"
                  placeholder={manage ? t('contact.findOrCreateTag') : t('filter.findTag')}
                  aria-label={t('filter.findTag')}
                  value={q}
                  onInput={(e) => setQ(e.currentTarget.value)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      const exact = all.find((x) => x.name.toLowerCase() === q.trim().toLowerCase());
                      if (exact) toggle(exact);
                      else if (manage) create();
                    }
                  }}
                />
              </div>
              {shown.map((tg) => {
                const on = contact.tag_ids.includes(tg.id);
                return (
                  <div key={tg.id} class="tag-menu-row">
                    <label class="menu-item">
                      <input type="checkbox" checked={on} onChange={() => toggle(tg)} data-testid={'tag-toggle-' + tg.name} />
                      <span class="tag-dot" style={{ background: tg.color }} />
                      <span class="grow">{tg.name}</span>
                    </label>
                    {manage && (
                      <>
                        <button type="button" class={'icon-btn xs' + (tg.pinned ? ' on' : '')} onClick={() => updateTag(tg, { pinned: !tg.pinned })} aria-pressed={tg.pinned} aria-label={t('contact.pinTag', { name: tg.name })} title={t('contact.pinTag', { name: tg.name })}>
                          <Icon name="pin" size={13} />
                        </button>
                        <input type="color" class="color-input" value={tg.color} onChange={(e) => updateTag(tg, { color: e.currentTarget.value })} aria-label={t('contact.tagColor', { name: tg.name })} title={t('contact.tagColor', { name: tg.name })} />
                      </>
                    )}
                  </div>
                );
              })}
              {manage && q.trim() && !all.some((x) => x.name.toLowerCase() === q.trim().toLowerCase()) && (
                <button type="button" class="menu-item" onClick={create}>
                  <Icon name="plus" size={14} /> {t('contact.createTag', { name: q.trim() })}
                </button>
              )}
              {!shown.length && !manage && <div class="menu-label">{t('filter.noTagsYet')}</div>}
            </div>
          )}
        </Dropdown>
      </div>
    </section>
  );
}

function Attributes({ contact }: { contact: Contact }) {
  const entries = Object.entries(contact.custom_attributes ?? {});
  const [adding, setAdding] = useState(false);
  const [k, setK] = useState('');
  const [v, setV] = useState('');
  const [edit, setEdit] = useState<string | null>(null);
  const [editVal, setEditVal] = useState('');
  const save = async (attrs: Record<string, unknown>) => updateContact(contact.id, { custom_attributes: attrs });
  return (
    <section class="panel-section">
      <h3>{t('contact.attributes')}</h3>
      {entries.length > 0 && (
        <dl class="props attrs">
          {entries.map(([key, val]) => (
            <Fragment key={key}>
              <dt>{key}</dt>
              <dd class="attr-val">
                {edit === key ? (
                  <form
                    class="inline-form"
                    onSubmit={async (e) => {
                      e.preventDefault();
                      if (await save({ ...contact.custom_attributes, [key]: editVal })) setEdit(null);
                    }}
                  >
                    <input value={editVal} onInput={(e) => setEditVal(e.currentTarget.value)} aria-label={key} autofocus />
                    <button type="submit" class="icon-btn xs" aria-label={t('common.save')}>
                      <Icon name="check" size={13} />
                    </button>
                  </form>
                ) : (
                  <>
                    <span class="grow">{typeof val === 'object' ? JSON.stringify(val) : String(val)}</span>
                    <button type="button" class="icon-btn xs" onClick={() => { setEdit(key); setEditVal(typeof val === 'object' ? JSON.stringify(val) : String(val)); }} aria-label={t('common.edit') + ' ' + key}>
                      <Icon name="edit" size={12} />
                    </button>
                    <button
                      type="button"
                      class="icon-btn xs"
                      onClick={() => {
                        const next = { ...contact.custom_attributes };
                        delete next[key];
                        save(next);
                      }}
                      aria-label={t('common.delete') + ' ' + key}
                    >
                      <Icon name="x" size={12} />
                    </button>
                  </>
                )}
              </dd>
            </Fragment>
          ))}
        </dl>
      )}
      {adding ? (
        <form
          class="attr-add"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!k.trim()) return;
            if (await save({ ...contact.custom_attributes, [k.trim()]: v })) {
              setK('');
              setV('');
              setAdding(false);
            }
          }}
        >
          <input placeholder={t('contact.attrKey')} aria-label={t('contact.attrKey')} value={k} onInput={(e) => setK(e.currentTarget.value)} autofocus />
          <input placeholder={t('contact.attrValue')} aria-label={t('contact.attrValue')} value={v} onInput={(e) => setV(e.currentTarget.value)} />
          <button type="submit" class="btn btn-sm btn-primary">
            {t('common.add')}
          </button>
        </form>
      ) : (
        <button type="button" class="link-btn small" onClick={() => setAdding(true)}>
          <Icon name="plus" size={12} /> {t('contact.addAttribute')}
        </button>
      )}
    </section>
  );
}

function OtherConversations({ contact, current }: { contact: Contact; current: Id }) {
  const [list, setList] = useState<Conversation[] | null>(null);
  useEffect(() => {
    let live = true;
    get<Conversation[]>(`/contacts/${contact.id}/conversations`)
      .then((l) => live && setList(l))
      .catch(() => live && setList([]));
    return () => {
      live = false;
    };
  }, [contact.id]);
  const others = (list ?? []).filter((c) => c.id !== current);
  return (
    <section class="panel-section">
      <h3>{t('contact.otherConversations')}</h3>
      {list === null ? (
        <Spinner />
      ) : !others.length ? (
        <p class="muted small">{t('contact.noOtherConversations')}</p>
      ) : (
        <ul class="other-convs">
          {others.map((c) => {
            const ch = state.channels.get(c.channel_id);
            return (
              <li key={c.id}>
                <a
                  href={`/conversations/${c.id}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate({ name: 'inbox', id: c.id });
                  }}
                >
                  <Icon name={channelIcon(ch?.kind ?? '')} size={14} />
                  <span class="grow ellipsis">{c.last_message?.preview || ch?.name}</span>
                  <span class={'status-chip status-' + c.status}>{t(('status.' + c.status) as 'status.open')}</span>
                  <span class="muted small">{listTime(c.last_activity_at)}</span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

interface VisitorInfo {
  visitor_id: string;
  country: string | null;
  email: string | null;
  last_seen_at: string;
  page_views: { url: string; title: string; viewed_at: string }[];
}

interface RatedAttention {
  id: Id;
  rating: string | null;
  rating_comment: string | null;
  rating_hidden: boolean;
  rated_at: string | null;
}

const FACES: Record<string, string> = { satisfied: '😊', neutral: '😐', dissatisfied: '😞' };

/** The website visitor: country, last pages, and the ratings of this conversation. */
function VisitorSection({ conv }: { conv: Conversation }) {
  const [info, setInfo] = useState<VisitorInfo | null>(null);
  const [ratings, setRatings] = useState<RatedAttention[]>([]);
  const last = conv.last_message?.id;
  useEffect(() => {
    let live = true;
    get<VisitorInfo>(`/conversations/${conv.id}/visitor`).then((v) => live && setInfo(v), () => live && setInfo(null));
    get<RatedAttention[] | { items: RatedAttention[] }>(`/conversations/${conv.id}/attentions`).then(
      (a) => live && setRatings((Array.isArray(a) ? a : a.items).filter((x) => x.rating)),
      () => {},
    );
    return () => void (live = false);
  }, [conv.id, last]);
  const toggle = async (a: RatedAttention) => {
    try {
      const n = await post<RatedAttention>(`/conversations/${conv.id}/rating-visibility`, { attention_id: a.id, hidden: !a.rating_hidden });
      setRatings((l) => l.map((x) => (x.id === n.id ? n : x)));
    } catch (e) {
      toastError(e);
    }
  };
  if (!info) return null;
  return (
    <section class="panel-section" data-testid="visitor-section">
      <h3>{t('visitor.title')}</h3>
      <dl class="props">
        {info.country && (
          <>
            <dt>{t('visitor.country')}</dt>
            <dd>{info.country}</dd>
          </>
        )}
        {info.email && (
          <>
            <dt>{t('contact.email')}</dt>
            <dd>{info.email}</dd>
          </>
        )}
      </dl>
      {ratings.length > 0 && (
        <>
          <h4 class="sub-head">{t('visitor.ratings')}</h4>
          <ul class="plain-list" data-testid="visitor-ratings">
            {ratings.map((a) => (
              <li key={a.id} class={a.rating_hidden ? 'muted' : ''}>
                <span class="rating-face" title={a.rating ?? ''}>{FACES[a.rating ?? ''] ?? ''}</span> {a.rating_comment && <q>{a.rating_comment}</q>}
                {a.rating_hidden && <span class="muted small"> · {t('visitor.hidden')}</span>}
                {canManageSettings() && (
                  <button type="button" class="btn btn-sm link-btn" onClick={() => toggle(a)}>
                    {a.rating_hidden ? t('visitor.showRating') : t('visitor.hideRating')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      <h4 class="sub-head">{t('visitor.pages')}</h4>
      {info.page_views.length === 0 ? (
        <p class="muted small">{t('visitor.noPages')}</p>
      ) : (
        <ol class="page-views" data-testid="page-views">
          {info.page_views.map((p, i) => (
            <li key={i}>
              <a href={p.url} target="_blank" rel="noopener noreferrer" title={p.url}>
                {p.title || p.url}
              </a>
              <span class="muted small"> {listTime(p.viewed_at)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
