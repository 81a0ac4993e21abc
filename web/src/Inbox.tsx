import { useEffect, useRef, useState } from 'preact/hooks';
import { listTime, t, tn } from './i18n';
import { Icon } from './icons';
import { ChannelIcon } from './channelIcons';
import { ConversationView } from './ConversationView';
import { ContactPanel } from './ContactPanel';
import {
  activeFilterCount,
  canDelete,
  contactName,
  deleteConversations,
  emit,
  emptyFilters,
  loadMore,
  navigate,
  panelOpen,
  reloadList,
  setFilters,
  setSearch,
  setSearchIn,
  type SearchIn,
  setSection,
  setSort,
  shallowArray,
  state,
  useStore,
  type Filters,
  type Section,
} from './store';
import type { Id } from './types';
import { Avatar, Dropdown, Modal, Spinner } from './ui';
import { VirtualList, type VirtualListHandle } from './VirtualList';

export const ROW_HEIGHT = 84;

export function Inbox() {
  const openId = useStore((s) => s.openId);
  const panel = useStore(panelOpen);
  return (
    <div class={'inbox' + (panel && openId ? ' with-panel' : '')}>
      <ListPane />
      <section class="conv-pane" aria-label={t('conv.pane')}>
        {openId ? <ConversationView key={openId} id={openId} /> : <EmptyConversation />}
      </section>
      {openId && panel && <ContactPanel key={openId} id={openId} />}
    </div>
  );
}

function EmptyConversation() {
  const count = useStore((s) => s.list.ids.length);
  return (
    <div class="empty-conv">
      <div class="empty-illu" aria-hidden="true">
        <Icon name="inbox" size={40} />
      </div>
      <h2>{count ? t('conv.pickOne') : t('conv.inboxZero')}</h2>
      <p class="muted">{count ? t('conv.pickOneHint') : t('conv.inboxZeroHint')}</p>
      <p class="muted small">
        <kbd>j</kbd> / <kbd>k</kbd> {t('shortcuts.nextPrev')} · <kbd>?</kbd> {t('shortcuts.title')}
      </p>
    </div>
  );
}

const SECTIONS: Section[] = ['mine', 'unassigned', 'all', 'teammates'];

function ListPane() {
  const section = useStore((s) => s.section);
  const counts = useStore((s) => s.counts);
  const list = useStore((s) => s.list);
  const ids = useStore((s) => s.list.ids, shallowArray);
  const selected = useStore((s) => s.selected);
  const selCount = useStore((s) => s.selected.size);
  const handle = useRef<VirtualListHandle | null>(null);
  const openId = useStore((s) => s.openId);

  useEffect(() => {
    if (openId) {
      const i = state.list.ids.indexOf(openId);
      if (i >= 0) handle.current?.scrollToIndex(i);
    }
  }, [openId]);

  return (
    <aside class="list-pane" aria-label={t('inbox.title')}>
      <div class="sections" role="tablist" aria-label={t('inbox.sections')}>
        {SECTIONS.map((s) => (
          <button
            key={s}
            type="button"
            role="tab"
            aria-selected={section === s}
            class={'section-tab' + (section === s ? ' active' : '')}
            onClick={() => setSection(s)}
            data-testid={'section-' + s}
          >
            <span>{t(('section.' + s) as 'section.mine')}</span>
            <span class={'count' + (counts[s] ? ' has' : '')} data-testid={'count-' + s} aria-label={tn('inbox.pending', counts[s])}>
              {counts[s]}
            </span>
          </button>
        ))}
      </div>
      {selCount > 0 ? <BulkBar count={selCount} /> : <ListTools />}
      {selCount === 0 && <SearchScopes />}
      <ActiveFilters />
      <div class="list-body">
        {list.error && !ids.length ? (
          <div class="list-empty">
            <p>{list.error}</p>
            <button type="button" class="btn" onClick={reloadList}>
              {t('common.retry')}
            </button>
          </div>
        ) : !list.loaded ? (
          <div class="list-empty">
            <Spinner size={22} />
          </div>
        ) : !ids.length ? (
          <div class="list-empty">
            <Icon name="checkCircle" size={28} />
            <p>{state.q.trim().length >= 4 ? t('inbox.noResults') : t('inbox.empty')}</p>
          </div>
        ) : (
          <VirtualList
            count={ids.length}
            rowHeight={ROW_HEIGHT}
            label={t('inbox.title')}
            handle={handle}
            onEndReached={loadMore}
            renderRow={(i) => <Row key={ids[i]} id={ids[i]} selectable={canDelete()} checked={selected.has(ids[i])} />}
            footer={list.loading && list.loaded && ids.length ? <div class="list-more"><Spinner /></div> : null}
          />
        )}
      </div>
    </aside>
  );
}

const SCOPES: SearchIn[] = ['all', 'contacts', 'messages'];

/** While a search is on: where it looks (everywhere, contact fields only, message text only). */
function SearchScopes() {
  const active = useStore((s) => s.q.trim().length >= 4);
  const searchIn = useStore((s) => s.searchIn);
  if (!active) return null;
  return (
    <div class="search-scopes" role="tablist" aria-label={t('inbox.searchIn')}>
      {SCOPES.map((s) => (
        <button
          key={s}
          type="button"
          role="tab"
          aria-selected={searchIn === s}
          class={'scope-tab' + (searchIn === s ? ' active' : '')}
          onClick={() => setSearchIn(s)}
          data-testid={'search-in-' + s}
        >
          {t(('inbox.searchIn.' + s) as 'inbox.searchIn.all')}
        </button>
      ))}
    </div>
  );
}

function ListTools() {
  const q = useStore((s) => s.q);
  const sort = useStore((s) => s.sort);
  const filters = useStore((s) => s.filters);
  const n = activeFilterCount(filters);
  const short = q.trim().length > 0 && q.trim().length < 4;
  return (
    <div class="list-tools">
      <div class="search">
        <Icon name="search" size={16} />
        <input
          id="search"
          type="search"
          placeholder={t('inbox.searchPlaceholder')}
          title={t('inbox.searchTitle')}
          aria-label={t('inbox.search')}
          value={q}
          onInput={(e) => setSearch(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setSearch('');
              e.currentTarget.blur();
            }
          }}
          aria-describedby={short ? 'search-hint' : undefined}
        />
        {short && (
          <span id="search-hint" class="search-hint">
            {t('inbox.searchMin')}
          </span>
        )}
      </div>
      <Dropdown
        label={t('inbox.filters')}
        class="filters-dd"
        align="right"
        button={(p) => (
          <button type="button" class={'icon-btn bordered' + (n ? ' on' : '')} {...p} title={t('inbox.filters')} data-testid="filters">
            <Icon name="filter" size={16} />
            {n > 0 && <span class="dot-count">{n}</span>}
          </button>
        )}
      >
        {(close) => <FilterPanel close={close} />}
      </Dropdown>
      <Dropdown
        label={t('inbox.sort')}
        align="right"
        button={(p) => (
          <button type="button" class="icon-btn bordered" {...p} title={t('inbox.sort') + ': ' + t(sort === 'processing' ? 'sort.processing' : 'sort.lastActivity')} data-testid="sort">
            <Icon name="sort" size={16} />
          </button>
        )}
      >
        {(close) => (
          <div class="menu" role="menu">
            <div class="menu-label">{t('inbox.sort')}</div>
            {(['processing', 'last_activity'] as const).map((s) => (
              <button
                key={s}
                type="button"
                role="menuitemradio"
                aria-checked={sort === s}
                class="menu-item"
                onClick={() => {
                  setSort(s);
                  close();
                }}
              >
                <span class="grow">
                  {t(s === 'processing' ? 'sort.processing' : 'sort.lastActivity')}
                  <span class="menu-desc">{t(s === 'processing' ? 'sort.processingHint' : 'sort.lastActivityHint')}</span>
                </span>
                {sort === s && <Icon name="check" size={14} />}
              </button>
            ))}
          </div>
        )}
      </Dropdown>
    </div>
  );
}

function BulkBar({ count }: { count: number }) {
  const [confirm, setConfirm] = useState(false);
  const ids = useStore((s) => s.list.ids, shallowArray);
  const all = count === ids.length;
  return (
    <div class="list-tools bulk">
      <input
        type="checkbox"
        checked={all}
        aria-label={t('bulk.selectAll')}
        onChange={() => {
          state.selected = all ? new Set() : new Set(ids);
          emit();
        }}
      />
      <span class="grow">{tn('bulk.selected', count)}</span>
      <button type="button" class="btn btn-danger btn-sm" onClick={() => setConfirm(true)} data-testid="bulk-delete">
        <Icon name="trash" size={14} /> {t('common.delete')}
      </button>
      <button
        type="button"
        class="btn btn-sm"
        onClick={() => {
          state.selected = new Set();
          emit();
        }}
      >
        {t('common.cancel')}
      </button>
      {confirm && (
        <Modal
          title={tn('bulk.deleteTitle', count)}
          onClose={() => setConfirm(false)}
          footer={
            <>
              <button type="button" class="btn" onClick={() => setConfirm(false)}>
                {t('common.cancel')}
              </button>
              <button
                type="button"
                class="btn btn-danger"
                onClick={async () => {
                  setConfirm(false);
                  await deleteConversations([...state.selected]);
                }}
              >
                {t('common.delete')}
              </button>
            </>
          }
        >
          <p>{t('bulk.deleteText')}</p>
        </Modal>
      )}
    </div>
  );
}

function Row({ id, selectable, checked }: { id: Id; selectable: boolean; checked: boolean }) {
  const c = useStore((s) => s.convs.get(id));
  const active = useStore((s) => s.openId === id);
  const channel = useStore((s) => (c ? s.channels.get(c.channel_id) : undefined));
  const assignee = useStore((s) => (c?.assignee_id ? s.users.get(c.assignee_id) : undefined));
  const team = useStore((s) => (c?.team_id ? s.teams.get(c.team_id) : undefined));
  const tags = useStore((s) => s.tags);
  const typing = useStore((s) => s.typing.has(id));
  if (!c) return null;
  const name = contactName(c);
  const unread = c.unread_count > 0 || c.marked_unread;
  const pinned = (c.contact?.tag_ids ?? []).map((tid) => tags.get(tid)).filter((x) => x && x.pinned);
  const draft = c.draft && c.draft.trim() ? c.draft : null;
  const open = () => navigate({ name: 'inbox', id });
  return (
    <div
      class={'conv-row' + (active ? ' active' : '') + (unread ? ' unread' : '') + (checked ? ' checked' : '')}
      data-testid="conv-row"
      data-id={id}
      onClick={open}
    >
      <div class={'row-avatar' + (selectable ? ' selectable' : '')}>
        <Avatar name={name} url={c.contact?.avatar_url} size={38} />
        {selectable && (
          <input
            type="checkbox"
            class="row-check"
            checked={checked}
            aria-label={t('bulk.select', { name })}
            onClick={(e) => e.stopPropagation()}
            onChange={() => {
              const s = new Set(state.selected);
              if (s.has(id)) s.delete(id);
              else s.add(id);
              state.selected = s;
              emit();
            }}
          />
        )}
      </div>
      <div class="row-main">
        <div class="row-line">
          <a
            class="row-name"
            href={`/conversations/${id}`}
            onClick={(e) => {
              e.preventDefault();
              e.stopPropagation();
              open();
            }}
          >
            {name}
          </a>
          {pinned.map((tg) => (
            <span key={tg!.id} class="tag-chip tiny" style={{ '--tag': tg!.color }}>
              {tg!.name}
            </span>
          ))}
          <span class="grow" />
          <time class="row-time" dateTime={c.last_activity_at}>
            {listTime(c.last_activity_at)}
          </time>
        </div>
        <div class="row-line row-meta">
          {channel && (
            <span class="row-channel" title={channel.name}>
              <ChannelIcon kind={channel.kind} size={13} title={null} />
              <span>{channel.name}</span>
            </span>
          )}
          {c.status !== 'open' && <span class={'status-chip status-' + c.status}>{t(('status.' + c.status) as 'status.open')}</span>}
          <span class="grow" />
          {assignee ? (
            <span class="row-assignee" title={t('conv.assignedTo', { name: assignee.name })}>
              <Avatar name={assignee.name} size={16} />
              <span>{assignee.name}</span>
            </span>
          ) : team ? (
            <span class="row-assignee" title={team.name}>
              <Icon name="users" size={13} />
              <span>{team.name}</span>
            </span>
          ) : (
            <span class="row-assignee muted">{t('conv.unassigned')}</span>
          )}
        </div>
        <div class="row-line">
          <span class="row-preview">
            {typing ? (
              <em class="typing-text">{t('conv.typing')}</em>
            ) : draft ? (
              <>
                <span class="draft-label">{t('conv.draft')}:</span> {draft}
              </>
            ) : (
              <>
                {c.last_message?.author_type === 'user' && <span class="muted">{t('conv.you')}: </span>}
                {c.last_message?.preview || <span class="muted">—</span>}
              </>
            )}
          </span>
          {c.unanswered && c.status === 'open' && <span class="unanswered-dot" title={t('conv.unanswered')} aria-label={t('conv.unanswered')} data-testid="unanswered" />}
          {unread && (
            <span class="unread-badge" data-testid="unread-badge" aria-label={tn('conv.unreadCount', c.unread_count || 1)}>
              {c.unread_count || ''}
            </span>
          )}
        </div>
      </div>
    </div>
  );
}

function ActiveFilters() {
  const f = useStore((s) => s.filters);
  const tags = useStore((s) => s.tags);
  const users = useStore((s) => s.users);
  const channels = useStore((s) => s.channels);
  const teams = useStore((s) => s.teams);
  const chips: { label: string; clear: Partial<Filters> }[] = [];
  if (f.status) chips.push({ label: t(('status.' + f.status) as 'status.open'), clear: { status: '' } });
  if (f.assignee_id) chips.push({ label: users.get(f.assignee_id)?.name ?? '?', clear: { assignee_id: null } });
  if (f.team_id) chips.push({ label: teams.get(f.team_id)?.name ?? '?', clear: { team_id: null } });
  if (f.channel_id) chips.push({ label: channels.get(f.channel_id)?.name ?? '?', clear: { channel_id: null } });
  if (f.tags === 'none') chips.push({ label: t('filter.noTags'), clear: { tags: [] } });
  else if (f.tags === 'pinned') chips.push({ label: t('filter.pinnedOnly'), clear: { tags: [] } });
  else for (const id of f.tags) chips.push({ label: '#' + (tags.get(id)?.name ?? id), clear: { tags: (f.tags as Id[]).filter((x) => x !== id) } });
  if (f.last_author) chips.push({ label: t('filter.lastAuthor') + ': ' + t(('author.' + f.last_author) as 'author.contact'), clear: { last_author: '' } });
  if (f.bot) chips.push({ label: f.bot === 'true' ? t('filter.botOwned') : t('filter.notBot'), clear: { bot: '' } });
  if (f.unanswered) chips.push({ label: t('filter.unanswered'), clear: { unanswered: false } });
  if (f.from || f.to) chips.push({ label: `${f.from || '…'} – ${f.to || '…'}`, clear: { from: '', to: '' } });
  if (!chips.length) return null;
  return (
    <div class="active-filters">
      {chips.map((c, i) => (
        <button key={i} type="button" class="filter-chip" onClick={() => setFilters({ ...state.filters, ...c.clear })} aria-label={t('filter.remove', { name: c.label })}>
          {c.label} <Icon name="x" size={12} />
        </button>
      ))}
      <button type="button" class="link-btn small" onClick={() => setFilters(emptyFilters())}>
        {t('filter.clearAll')}
      </button>
    </div>
  );
}

function FilterPanel({ close }: { close: () => void }) {
  const [f, setF] = useState<Filters>(() => ({ ...state.filters }));
  const [tagQuery, setTagQuery] = useState('');
  const users = useStore((s) => [...s.users.values()].filter((u) => u.active), shallowArray);
  const teams = useStore((s) => [...s.teams.values()], shallowArray);
  const channels = useStore((s) => [...s.channels.values()], shallowArray);
  const tags = useStore((s) => [...s.tags.values()], shallowArray);
  const set = (p: Partial<Filters>) => setF({ ...f, ...p });
  const tagList = Array.isArray(f.tags) ? f.tags : [];
  const shownTags = tags
    .filter((tg) => (f.tags === 'pinned' ? tg.pinned : true))
    .filter((tg) => !tagQuery || tg.name.toLowerCase().includes(tagQuery.toLowerCase()))
    .sort((a, b) => Number(tagList.includes(b.id)) - Number(tagList.includes(a.id)) || a.name.localeCompare(b.name));
  const apply = () => {
    setFilters(f);
    close();
  };
  return (
    <form
      class="filter-panel"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <div class="fp-grid">
        <label class="field">
          <span class="field-label">{t('filter.status')}</span>
          <select value={f.status} onChange={(e) => set({ status: e.currentTarget.value as Filters['status'] })} data-testid="filter-status">
            <option value="">{t('filter.any')}</option>
            <option value="open">{t('status.open')}</option>
            <option value="snoozed">{t('status.snoozed')}</option>
            <option value="closed">{t('status.closed')}</option>
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('filter.assignee')}</span>
          <select value={f.assignee_id ?? ''} onChange={(e) => set({ assignee_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
            <option value="">{t('filter.any')}</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('filter.team')}</span>
          <select value={f.team_id ?? ''} onChange={(e) => set({ team_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
            <option value="">{t('filter.any')}</option>
            {teams.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('filter.channel')}</span>
          <select value={f.channel_id ?? ''} onChange={(e) => set({ channel_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
            <option value="">{t('filter.any')}</option>
            {channels.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('filter.lastAuthor')}</span>
          <select value={f.last_author} onChange={(e) => set({ last_author: e.currentTarget.value as Filters['last_author'] })}>
            <option value="">{t('filter.any')}</option>
            <option value="contact">{t('author.contact')}</option>
            <option value="operator">{t('author.operator')}</option>
            <option value="bot">{t('author.bot')}</option>
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('filter.bot')}</span>
          <select value={f.bot} onChange={(e) => set({ bot: e.currentTarget.value as Filters['bot'] })}>
            <option value="">{t('filter.any')}</option>
            <option value="true">{t('filter.botOwned')}</option>
            <option value="false">{t('filter.notBot')}</option>
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('filter.from')}</span>
          <input type="date" value={f.from} onInput={(e) => set({ from: e.currentTarget.value })} />
        </label>
        <label class="field">
          <span class="field-label">{t('filter.to')}</span>
          <input type="date" value={f.to} onInput={(e) => set({ to: e.currentTarget.value })} />
        </label>
      </div>
      <label class="check-row">
        <input type="checkbox" checked={f.unanswered} onChange={(e) => set({ unanswered: e.currentTarget.checked })} />
        {t('filter.unanswered')}
      </label>
      <fieldset class="fp-tags">
        <legend class="field-label">{t('filter.tags')}</legend>
        <div class="seg">
          <button type="button" aria-pressed={Array.isArray(f.tags)} class={Array.isArray(f.tags) ? 'on' : ''} onClick={() => set({ tags: [] })}>
            {t('filter.allTags')}
          </button>
          <button type="button" aria-pressed={f.tags === 'none'} class={f.tags === 'none' ? 'on' : ''} onClick={() => set({ tags: 'none' })}>
            {t('filter.noTags')}
          </button>
          <button type="button" aria-pressed={f.tags === 'pinned'} class={f.tags === 'pinned' ? 'on' : ''} onClick={() => set({ tags: 'pinned' })}>
            {t('filter.pinnedOnly')}
          </button>
        </div>
        {f.tags !== 'none' && (
          <>
            {tags.length > 6 && <input type="search" class="tag-search" placeholder={t('filter.findTag')} aria-label={t('filter.findTag')} value={tagQuery} onInput={(e) => setTagQuery(e.currentTarget.value)} />}
            <div class="tag-options">
              {shownTags.map((tg) => {
                const on = tagList.includes(tg.id);
                return (
                  <label key={tg.id} class={'tag-option' + (on ? ' on' : '')}>
                    <input
                      type="checkbox"
                      checked={on}
                      disabled={f.tags === 'pinned'}
                      onChange={() => set({ tags: on ? tagList.filter((x) => x !== tg.id) : [...tagList, tg.id] })}
                      data-testid={'filter-tag-' + tg.name}
                    />
                    <span class="tag-dot" style={{ background: tg.color }} />
                    {tg.name}
                    {tg.pinned && <Icon name="pin" size={12} />}
                  </label>
                );
              })}
              {!tags.length && <span class="muted small">{t('filter.noTagsYet')}</span>}
            </div>
          </>
        )}
      </fieldset>
      <div class="fp-foot">
        <button type="button" class="link-btn" onClick={() => setF(emptyFilters())}>
          {t('filter.reset')}
        </button>
        <span class="grow" />
        <button type="submit" class="btn btn-primary" data-testid="filters-apply">
          {t('filter.apply')}
        </button>
      </div>
    </form>
  );
}
