// The app's one normalised store: directory data, the inbox list, threads, live updates.
// Components read it with `useStore(selector)`; mutations call `emit()`.
import { useEffect, useReducer, useRef } from 'preact/hooks';
import { api, ApiError, get, post, put, qs, setUnauthorizedHandler } from './api';
import { browserLang, getLang, isLang, setLang, t, type Lang } from './i18n';
import type {
  CannedResponse,
  Channel,
  CloseReason,
  Contact,
  Conversation,
  ConversationPage,
  Counts,
  Id,
  Message,
  MessagePage,
  Notification,
  Tag,
  Team,
  User,
  WsFrame,
} from './types';
import { Realtime } from './ws';
import { MESSENGER_ERRORS } from './messengerErrors';

// ------------------------------------------------------------------ filters

export type Section = 'mine' | 'unassigned' | 'all' | 'teammates';
export type Sort = 'processing' | 'last_activity';

export interface Filters {
  status: '' | 'open' | 'snoozed' | 'closed';
  assignee_id: Id | null;
  team_id: Id | null;
  channel_id: Id | null;
  /** Tag ids (all of them), or the special `none` / `pinned`. */
  tags: Id[] | 'none' | 'pinned';
  last_author: '' | 'contact' | 'operator' | 'bot';
  bot: '' | 'true' | 'false';
  unanswered: boolean;
  from: string;
  to: string;
}

export const emptyFilters = (): Filters => ({
  status: '',
  assignee_id: null,
  team_id: null,
  channel_id: null,
  tags: [],
  last_author: '',
  bot: '',
  unanswered: false,
  from: '',
  to: '',
});

export function activeFilterCount(f: Filters): number {
  let n = 0;
  if (f.status) n++;
  if (f.assignee_id) n++;
  if (f.team_id) n++;
  if (f.channel_id) n++;
  if (f.tags === 'none' || f.tags === 'pinned' || f.tags.length) n++;
  if (f.last_author) n++;
  if (f.bot) n++;
  if (f.unanswered) n++;
  if (f.from || f.to) n++;
  return n;
}

// ------------------------------------------------------------------ state

export interface Thread {
  /** Oldest first. */
  items: Message[];
  nextBefore: Id | null;
  loaded: boolean;
  loadingOlder: boolean;
  error: string | null;
}

export interface Toast {
  id: number;
  kind: 'message' | 'info' | 'error' | 'reminder';
  title: string;
  text: string;
  conversationId?: Id;
}

export interface ListState {
  key: string;
  ids: Id[];
  next: string | null;
  loading: boolean;
  error: string | null;
  loaded: boolean;
}

export interface Prefs {
  sound: boolean;
  desktop: boolean;
  contactPanel: boolean;
}

export interface State {
  booted: boolean;
  me: User | null;
  users: Map<Id, User>;
  teams: Map<Id, Team>;
  channels: Map<Id, Channel>;
  tags: Map<Id, Tag>;
  closeReasons: CloseReason[];
  canned: CannedResponse[];
  convs: Map<Id, Conversation>;
  contacts: Map<Id, Contact>;
  threads: Map<Id, Thread>;
  section: Section;
  sort: Sort;
  filters: Filters;
  q: string;
  /** Where the search looks: everywhere (contact fields and message text), or one of them. */
  searchIn: SearchIn;
  list: ListState;
  counts: Counts;
  unreadTotal: number;
  openId: Id | null;
  selected: Set<Id>;
  typing: Map<Id, { name: string; until: number }>;
  toasts: Toast[];
  drafts: Map<Id, string>;
  online: boolean;
  prefs: Prefs;
  /** Below 1180 px the contact panel overlays the conversation: open only on demand. */
  narrowPanel: boolean;
  route: Route;
  version: number;
}

export type Route =
  | { name: 'inbox'; id: Id | null }
  | { name: 'settings'; tab: string };

function loadPrefs(): Prefs {
  try {
    return { sound: false, desktop: false, contactPanel: true, ...JSON.parse(localStorage.getItem('charla.prefs') || '{}') };
  } catch {
    return { sound: false, desktop: false, contactPanel: true };
  }
}

export const state: State = {
  booted: false,
  me: null,
  users: new Map(),
  teams: new Map(),
  channels: new Map(),
  tags: new Map(),
  closeReasons: [],
  canned: [],
  convs: new Map(),
  contacts: new Map(),
  threads: new Map(),
  section: 'all',
  sort: 'processing',
  filters: emptyFilters(),
  q: '',
  searchIn: 'all',
  list: { key: '', ids: [], next: null, loading: false, error: null, loaded: false },
  counts: { mine: 0, unassigned: 0, all: 0, teammates: 0 },
  unreadTotal: 0,
  openId: null,
  selected: new Set(),
  typing: new Map(),
  toasts: [],
  drafts: new Map(),
  online: true,
  prefs: loadPrefs(),
  narrowPanel: false,
  route: parseRoute(location.pathname),
  version: 0,
};

// ------------------------------------------------------------------ subscriptions

const listeners = new Set<() => void>();
let scheduled = false;

/** Notifies subscribers (batched to one microtask). */
export function emit() {
  state.version++;
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const l of [...listeners]) l();
  });
}

export function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Re-renders the component when the selected value changes (by `Object.is` or `eq`). */
export function useStore<T>(select: (s: State) => T, eq: (a: T, b: T) => boolean = Object.is): T {
  const [, force] = useReducer((x: number) => x + 1, 0);
  const sel = useRef(select);
  sel.current = select;
  const value = select(state);
  const last = useRef(value);
  last.current = value;
  useEffect(() => {
    const check = () => {
      const v = sel.current(state);
      if (!eq(v, last.current)) force(0);
    };
    const unsubscribe = subscribe(check);
    // A change between this render and the subscription (e.g. boot finishing first) would
    // otherwise be missed until the next one.
    check();
    return unsubscribe;
  }, []);
  return value;
}

export const shallowArray = <T>(a: T[], b: T[]) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

// ------------------------------------------------------------------ routing

export function parseRoute(path: string): Route {
  const m = path.match(/^\/conversations\/(\d+)/);
  if (m) return { name: 'inbox', id: Number(m[1]) };
  const s = path.match(/^\/settings(?:\/([\w-]+))?/);
  if (s) return { name: 'settings', tab: s[1] || 'profile' };
  return { name: 'inbox', id: null };
}

function routePath(r: Route): string {
  if (r.name === 'settings') return `/settings/${r.tab}`;
  return r.id ? `/conversations/${r.id}` : '/';
}

export function navigate(r: Route, replace = false) {
  const path = routePath(r);
  if (location.pathname !== path) history[replace ? 'replaceState' : 'pushState'](null, '', path);
  applyRoute(r);
}

function applyRoute(r: Route) {
  state.route = r;
  if (r.name === 'inbox') {
    if (r.id !== state.openId) openConversation(r.id);
  }
  emit();
}

addEventListener('popstate', () => applyRoute(parseRoute(location.pathname)));

// ------------------------------------------------------------------ permissions

export const isAdmin = () => state.me?.role === 'admin';
export const hasFlag = (f: string) => isAdmin() || !!state.me?.flags.includes(f);
export const canManageSettings = () => hasFlag('manage_settings');
export const canDelete = () => hasFlag('delete_conversations');
/** Mirrors charla-core's Viewer::can_assign for what the UI shows; the server decides. */
export const canAssign = (c: Conversation) => isAdmin() || c.assignee_id === null || c.assignee_id === state.me?.id;

// ------------------------------------------------------------------ boot, login, language

let realtime: Realtime | null = null;

setUnauthorizedHandler(() => {
  if (state.me) resetSession();
});

function resetSession() {
  realtime?.stop();
  realtime = null;
  state.me = null;
  state.convs.clear();
  state.threads.clear();
  state.contacts.clear();
  state.list = { key: '', ids: [], next: null, loading: false, error: null, loaded: false };
  state.openId = null;
  state.drafts.clear();
  state.toasts = [];
  updateTitle();
  emit();
}

/** The language before login: this device's last one, else the browser's. */
export function initialLang(): Lang {
  const saved = localStorage.getItem('charla.lang');
  return isLang(saved) ? saved : browserLang();
}

function langFor(me: User): Lang {
  // A language the user chose is on their record; the server's default is `en`, so an `en`
  // user who never chose one on this device gets the browser's language.
  const chosen = localStorage.getItem(`charla.lang.chosen.${me.id}`);
  if (isLang(me.language) && (me.language !== 'en' || chosen)) return me.language;
  return browserLang();
}

export function applyLang(l: Lang) {
  setLang(l);
  localStorage.setItem('charla.lang', l);
  emit();
}

export async function chooseLang(l: Lang) {
  applyLang(l);
  if (state.me) {
    localStorage.setItem(`charla.lang.chosen.${state.me.id}`, '1');
    try {
      const u = await api<User>('PATCH', `/users/${state.me.id}`, { language: l });
      setMe(u);
    } catch (e) {
      toastError(e);
    }
  }
}

export function setMe(u: User) {
  state.me = u;
  state.users = new Map(state.users).set(u.id, u);
  emit();
}

export async function boot() {
  setLang(initialLang());
  try {
    const me = await api<User>('GET', '/auth/me', undefined, { noAuthRedirect: true });
    await startSession(me);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) console.warn(e);
  }
  state.booted = true;
  emit();
}

export async function login(email: string, password: string) {
  const r = await api<{ token: string; user: User }>('POST', '/auth/login', { email, password }, { noAuthRedirect: true });
  await startSession(r.user);
}

export async function logout() {
  try {
    await post('/auth/logout');
  } catch {
    /* the session may be gone already */
  }
  resetSession();
  navigate({ name: 'inbox', id: null }, true);
}

async function startSession(me: User) {
  setMe(me);
  applyLang(langFor(me));
  await Promise.all([loadDirectory(), refreshUnread()]);
  realtime = new Realtime(onFrame, (online) => {
    state.online = online;
    emit();
  });
  realtime.start();
  reloadList();
  if (state.route.name === 'inbox' && state.route.id) openConversation(state.route.id);
}

export async function loadDirectory() {
  const [users, teams, channels, tags, reasons, canned] = await Promise.all([
    get<User[]>('/users'),
    get<Team[]>('/teams').catch(() => [] as Team[]),
    get<Channel[]>('/channels'),
    get<Tag[]>('/tags'),
    get<CloseReason[]>('/close-reasons').catch(() => [] as CloseReason[]),
    get<CannedResponse[]>('/canned-responses').catch(() => [] as CannedResponse[]),
  ]);
  state.users = new Map(users.map((u) => [u.id, u]));
  if (state.me) state.users.set(state.me.id, state.users.get(state.me.id) ?? state.me);
  state.teams = new Map(teams.map((x) => [x.id, x]));
  state.channels = new Map(channels.map((x) => [x.id, x]));
  state.tags = new Map(tags.map((x) => [x.id, x]));
  state.closeReasons = reasons;
  state.canned = canned;
  emit();
}

// ------------------------------------------------------------------ the inbox list

const PAGE = 100;

function listParams(cursor?: string | null, limit = PAGE) {
  const f = state.filters;
  return qs({
    section: state.section,
    sort: state.sort,
    status: f.status,
    assignee_id: f.assignee_id,
    team_id: f.team_id,
    channel_id: f.channel_id,
    tag: f.tags === 'none' || f.tags === 'pinned' ? f.tags : f.tags,
    last_author: f.last_author,
    bot: f.bot,
    unanswered: f.unanswered ? 'true' : '',
    from: f.from ? new Date(f.from).toISOString() : '',
    to: f.to ? new Date(f.to).toISOString() : '',
    q: state.q.trim().length >= 4 ? state.q.trim() : '',
    search_in: state.q.trim().length >= 4 && state.searchIn !== 'all' ? state.searchIn : '',
    cursor,
    limit,
  });
}

function listKey() {
  return listParams(null);
}

let listSeq = 0;
/** Bumped by every `counts.updated`: a list answer requested before one must not overwrite the
 * counters it brought (the server sends counters only when they change, so a stale overwrite
 * would stay until the next change). */
let countsSeq = 0;

/** Takes the counters of a list answer requested when `countsSeq` was `asked`. */
function takeCounts(counts: Counts, asked: number) {
  if (asked === countsSeq) state.counts = counts;
}

/** Reloads the list from the first page (filters, section, sort or search changed). */
export async function reloadList() {
  const key = listKey();
  const seq = ++listSeq;
  const asked = countsSeq;
  state.list = { ...state.list, key, loading: true, error: null };
  state.selected = new Set();
  emit();
  try {
    const page = await get<ConversationPage>('/conversations' + listParams(null));
    if (seq !== listSeq) return;
    for (const c of page.items) putConv(c);
    state.list = { key, ids: page.items.map((c) => c.id), next: page.next_cursor, loading: false, error: null, loaded: true };
    takeCounts(page.counts, asked);
  } catch (e) {
    if (seq !== listSeq) return;
    state.list = { ...state.list, loading: false, error: errText(e), loaded: true };
  }
  emit();
}

export async function loadMore() {
  const l = state.list;
  if (l.loading || !l.next) return;
  const seq = listSeq;
  state.list = { ...l, loading: true };
  emit();
  try {
    const page = await get<ConversationPage>('/conversations' + listParams(l.next));
    if (seq !== listSeq) return;
    const have = new Set(state.list.ids);
    for (const c of page.items) putConv(c);
    const ids = state.list.ids.concat(page.items.map((c) => c.id).filter((id) => !have.has(id)));
    state.list = { ...state.list, ids, next: page.next_cursor, loading: false };
  } catch (e) {
    if (seq !== listSeq) return;
    state.list = { ...state.list, loading: false, error: errText(e) };
  }
  emit();
}

export function setSection(s: Section) {
  state.section = s;
  reloadList();
}
export function setSort(s: Sort) {
  state.sort = s;
  reloadList();
}
export function setFilters(f: Filters) {
  state.filters = f;
  reloadList();
}

export type SearchIn = 'all' | 'contacts' | 'messages';

/** The search's tabs: everywhere, contacts only, messages only. */
export function setSearchIn(scope: SearchIn) {
  if (state.searchIn === scope) return;
  state.searchIn = scope;
  emit();
  if (state.q.trim().length >= 4) reloadList();
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;
export function setSearch(q: string) {
  const before = state.q.trim().length >= 4 ? state.q.trim() : '';
  state.q = q;
  emit();
  const after = q.trim().length >= 4 ? q.trim() : '';
  if (before === after) return;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(reloadList, 250);
}

/** Stores a conversation, keeping per-user fields that realtime summaries leave out. */
function putConv(c: Conversation, summary = false): Conversation {
  const old = state.convs.get(c.id);
  let next = c;
  if (summary && old) {
    next = {
      ...c,
      unread_count: old.unread_count,
      marked_unread: old.marked_unread,
      draft: old.draft,
      identity: old.identity,
      contact: c.contact && old.contact && c.contact.id === old.contact.id ? { ...old.contact, ...c.contact } : c.contact,
    };
  }
  if (next.contact && 'name' in next.contact) {
    const full = state.contacts.get(next.contact.id);
    if (full) next = { ...next, contact: { ...next.contact, ...cardOf(full) } };
  }
  state.convs.set(c.id, next);
  return next;
}

function cardOf(c: Contact) {
  return {
    id: c.id,
    name: c.name,
    phone: c.phone,
    email: c.email,
    avatar_url: c.avatar_url,
    telegram_username: c.telegram_username,
    tag_ids: c.tag_ids,
    blocked: c.blocked,
  };
}

/** Whether a conversation belongs in the list as filtered now (what the client can tell). */
function matches(c: Conversation): boolean | 'unknown' {
  const me = state.me?.id;
  const f = state.filters;
  switch (state.section) {
    case 'mine':
      if (c.assignee_id !== me) return false;
      break;
    case 'unassigned':
      if (c.assignee_id !== null) return false;
      break;
    case 'teammates':
      if (c.assignee_id === null || c.assignee_id === me) return false;
      break;
  }
  if (f.status && c.status !== f.status) return false;
  if (f.assignee_id && c.assignee_id !== f.assignee_id) return false;
  if (f.team_id && c.team_id !== f.team_id) return false;
  if (f.channel_id && c.channel_id !== f.channel_id) return false;
  if (f.unanswered && !c.unanswered) return false;
  if (f.bot && String(c.owned_by_bot) !== f.bot) return false;
  if (f.last_author) {
    const a = c.last_message?.author_type;
    const want = f.last_author === 'operator' ? 'user' : f.last_author;
    if (a !== want) return false;
  }
  if (f.from && c.last_activity_at < new Date(f.from).toISOString()) return false;
  if (f.to && c.last_activity_at >= new Date(f.to).toISOString()) return false;
  const tagIds = c.contact?.tag_ids;
  if (f.tags === 'none' || f.tags === 'pinned' || f.tags.length) {
    if (!tagIds) return 'unknown';
    if (f.tags === 'none' && tagIds.length) return false;
    if (f.tags === 'pinned' && !tagIds.some((id) => state.tags.get(id)?.pinned)) return false;
    if (Array.isArray(f.tags) && !f.tags.every((id) => tagIds.includes(id))) return false;
  }
  if (state.q.trim().length >= 4) return 'unknown';
  return true;
}

function sortKey(c: Conversation): (number | string)[] {
  if (state.sort === 'last_activity') return [c.last_activity_at, c.id];
  // Unanswered first, earliest due first, then by last activity (the server's order).
  const due = c.due_at ? -Date.parse(c.due_at) : -9e15;
  return [c.unanswered ? 1 : 0, due, c.last_activity_at, c.id];
}

function before(a: Conversation, b: Conversation): boolean {
  const ka = sortKey(a);
  const kb = sortKey(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] > kb[i]) return true;
    if (ka[i] < kb[i]) return false;
  }
  return false;
}

/** Puts a changed conversation where it belongs in the loaded part of the list (or out). */
function place(id: Id, isNew: boolean) {
  const c = state.convs.get(id);
  const ids = state.list.ids;
  const at = ids.indexOf(id);
  const m = c ? matches(c) : false;
  if (m === false) {
    if (at >= 0) state.list = { ...state.list, ids: ids.filter((x) => x !== id) };
    return;
  }
  if (!c) return;
  if (m === 'unknown' && at < 0) {
    if (isNew) scheduleHeadRefresh();
    return;
  }
  const rest = at >= 0 ? ids.filter((x) => x !== id) : ids.slice();
  let pos = rest.findIndex((other) => {
    const o = state.convs.get(other);
    return o ? before(c, o) : false;
  });
  if (pos < 0) {
    // After everything loaded: only when the whole list is loaded, else it comes with a page.
    if (state.list.next) {
      if (at >= 0) state.list = { ...state.list, ids: rest };
      return;
    }
    pos = rest.length;
  }
  rest.splice(pos, 0, id);
  state.list = { ...state.list, ids: rest };
}

let headTimer: ReturnType<typeof setTimeout> | undefined;
/** Re-reads the first page (for changes the client cannot place itself, e.g. under a search). */
function scheduleHeadRefresh() {
  clearTimeout(headTimer);
  headTimer = setTimeout(async () => {
    const seq = listSeq;
    const asked = countsSeq;
    try {
      const page = await get<ConversationPage>('/conversations' + listParams(null, 50));
      if (seq !== listSeq) return;
      for (const c of page.items) putConv(c);
      const head = page.items.map((c) => c.id);
      const inHead = new Set(head);
      const tail = state.list.ids.filter((id) => !inHead.has(id));
      state.list = { ...state.list, ids: head.concat(page.next_cursor ? tail : []) };
      if (!page.next_cursor) state.list.next = null;
      takeCounts(page.counts, asked);
      emit();
    } catch {
      /* the next event retries */
    }
  }, 300);
}

let countsTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleCountsRefresh() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(async () => {
    const asked = countsSeq;
    try {
      const page = await get<ConversationPage>('/conversations' + listParams(null, 1));
      takeCounts(page.counts, asked);
      emit();
    } catch {
      /* ignore */
    }
  }, 400);
}

const fetching = new Map<Id, Promise<Conversation | null>>();
/** The conversation with the caller's fields (unread, draft, full contact). */
export function fetchConv(id: Id): Promise<Conversation | null> {
  let p = fetching.get(id);
  if (!p) {
    p = get<Conversation>(`/conversations/${id}`)
      .then((c) => putConv(c))
      .catch((e) => {
        if (e instanceof ApiError && e.status === 404) dropConv(id);
        return null;
      })
      .finally(() => fetching.delete(id));
    fetching.set(id, p);
  }
  return p;
}

function dropConv(id: Id) {
  state.convs.delete(id);
  state.threads.delete(id);
  state.selected.delete(id);
  state.list = { ...state.list, ids: state.list.ids.filter((x) => x !== id) };
  if (state.openId === id) {
    state.openId = null;
    if (state.route.name === 'inbox') navigate({ name: 'inbox', id: null }, true);
  }
  emit();
}

// ------------------------------------------------------------------ unread

let unreadTimer: ReturnType<typeof setTimeout> | undefined;
export function refreshUnread(delay = 0): Promise<void> {
  clearTimeout(unreadTimer);
  return new Promise((resolve) => {
    unreadTimer = setTimeout(async () => {
      try {
        const r = await get<{ conversations: number }>('/unread-count');
        state.unreadTotal = r.conversations;
        updateTitle();
        emit();
      } catch {
        /* ignore */
      }
      resolve();
    }, delay);
  });
}

export function updateTitle() {
  const n = state.me ? state.unreadTotal : 0;
  document.title = n > 0 ? `(${n}) Charla` : 'Charla';
}

// ------------------------------------------------------------------ a conversation

let openSeq = 0;

export async function openConversation(id: Id | null) {
  const prev = state.openId;
  if (prev && prev !== id) flushDraft(prev);
  state.openId = id;
  emit();
  if (!id) return;
  const seq = ++openSeq;
  const conv = state.convs.get(id);
  const tasks: Promise<unknown>[] = [fetchConv(id), loadLatest(id)];
  if (!state.drafts.has(id)) tasks.push(loadDraft(id));
  await Promise.all(tasks);
  if (seq !== openSeq) return;
  const c = state.convs.get(id) ?? conv;
  if (c && (c.unread_count > 0 || c.marked_unread)) markRead(id);
  if (c?.contact?.id) loadContact(c.contact.id);
}

async function loadDraft(id: Id) {
  try {
    const d = await get<{ text: string }>(`/conversations/${id}/draft`);
    if (!state.drafts.has(id)) {
      state.drafts.set(id, d.text);
      emit();
    }
  } catch {
    /* no draft */
  }
}

function thread(id: Id): Thread {
  let th = state.threads.get(id);
  if (!th) {
    th = { items: [], nextBefore: null, loaded: false, loadingOlder: false, error: null };
    state.threads.set(id, th);
  }
  return th;
}

const STATUS_RANK: Record<string, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  const byId = new Map<number | string, Message>();
  for (const m of existing) byId.set(m.pending ? 'c:' + m.client_msg_id : m.id, m);
  for (const m of incoming) {
    if (m.client_msg_id) byId.delete('c:' + m.client_msg_id);
    const old = byId.get(m.id);
    // Answers and realtime frames race (a send's answer may come after its `sent` update):
    // a delivery status never goes back.
    byId.set(m.id, old && STATUS_RANK[old.status] > STATUS_RANK[m.status] ? { ...m, status: old.status, error: old.error } : m);
  }
  return [...byId.values()].sort((a, b) => {
    if (!!a.pending !== !!b.pending) return a.pending ? 1 : -1;
    return a.id - b.id;
  });
}

/** The newest page (first open, or a refresh of a thread seen before). */
async function loadLatest(id: Id) {
  const th = thread(id);
  try {
    const page = await get<MessagePage>(`/conversations/${id}/messages?limit=50`);
    const fresh = page.items.slice().reverse();
    const next: Thread = { ...thread(id) };
    if (!th.loaded) {
      next.items = mergeMessages(next.items, fresh);
      next.nextBefore = page.next_before;
    } else {
      // Keep older history already loaded; take the newest page as the truth.
      const oldest = fresh[0]?.id ?? 0;
      const gap = page.next_before !== null && !next.items.some((m) => m.id <= oldest && !m.pending);
      next.items = gap ? mergeMessages(next.items.filter((m) => m.pending), fresh) : mergeMessages(next.items, fresh);
      if (gap) next.nextBefore = page.next_before;
    }
    next.loaded = true;
    next.error = null;
    state.threads.set(id, next);
  } catch (e) {
    state.threads.set(id, { ...thread(id), error: errText(e), loaded: true });
  }
  emit();
}

export async function loadOlder(id: Id) {
  const th = thread(id);
  if (th.loadingOlder || th.nextBefore === null) return;
  state.threads.set(id, { ...th, loadingOlder: true });
  emit();
  try {
    const page = await get<MessagePage>(`/conversations/${id}/messages?limit=50&before=${th.nextBefore}`);
    const cur = thread(id);
    state.threads.set(id, {
      ...cur,
      items: mergeMessages(cur.items, page.items.slice().reverse()),
      nextBefore: page.next_before,
      loadingOlder: false,
    });
  } catch (e) {
    state.threads.set(id, { ...thread(id), loadingOlder: false, error: errText(e) });
  }
  emit();
}

export async function markRead(id: Id) {
  const c = state.convs.get(id);
  if (c) state.convs.set(id, { ...c, unread_count: 0, marked_unread: false });
  emit();
  try {
    const r = await post<Conversation>(`/conversations/${id}/read`);
    putConv(r);
  } catch {
    /* ignore */
  }
  refreshUnread(200);
}

let clientSeq = 0;
function clientMsgId(): string {
  return `web-${Date.now().toString(36)}-${(++clientSeq).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface Outgoing {
  text: string;
  note: boolean;
  replyTo: Id | null;
  attachments: import('./types').Attachment[];
  /** A messenger template to send instead of free text (`text` is its filled body). */
  template?: import('./types').TemplateSend;
}

/** Sends a message or note; shows it at once, then as the server answers. */
export async function send(id: Id, out: Outgoing, retryOf?: Message) {
  const me = state.me;
  if (!me) return;
  const cmid = retryOf?.client_msg_id ?? clientMsgId();
  const template = out.template ?? retryOf?.template;
  const optimistic: Message = {
    id: Number.MAX_SAFE_INTEGER,
    conversation_id: id,
    channel_id: state.convs.get(id)?.channel_id ?? 0,
    attention_id: null,
    kind: out.note ? 'note' : 'outbound',
    text: out.text,
    status: 'queued',
    error: null,
    provider_id: null,
    attachments: out.attachments,
    author: { type: 'user', id: me.id, name: me.display_name || me.name },
    reply_to: out.replyTo,
    client_msg_id: cmid,
    created_at: new Date().toISOString(),
    pending: 'sending',
    template,
  };
  const th = thread(id);
  state.threads.set(id, { ...th, items: mergeMessages(th.items, []).filter((m) => m.client_msg_id !== cmid).concat(optimistic) });
  emit();
  try {
    const m = await post<Message>(
      `/conversations/${id}/messages`,
      template
        ? { template, client_msg_id: cmid }
        : {
            text: out.text,
            kind: out.note ? 'note' : undefined,
            reply_to: out.replyTo ?? undefined,
            client_msg_id: cmid,
            attachment_ids: out.attachments.map((a) => a.id),
          },
    );
    addMessage(m);
  } catch (e) {
    const cur = thread(id);
    state.threads.set(id, {
      ...cur,
      items: cur.items.map((m) => (m.client_msg_id === cmid && m.pending ? { ...m, pending: 'error', status: 'failed', error: errText(e) } : m)),
    });
    emit();
    if (e instanceof ApiError && e.status === 404) fetchConv(id);
  }
}

export function discardPending(id: Id, cmid: string) {
  const th = thread(id);
  state.threads.set(id, { ...th, items: th.items.filter((m) => !(m.pending && m.client_msg_id === cmid)) });
  emit();
}

function addMessage(m: Message) {
  const th = state.threads.get(m.conversation_id);
  if (th && th.loaded) {
    state.threads.set(m.conversation_id, { ...th, items: mergeMessages(th.items, [m]) });
  }
  emit();
}

// ------------------------------------------------------------------ drafts

const draftTimers = new Map<Id, ReturnType<typeof setTimeout>>();
const draftSaved = new Map<Id, string>();

/** Keeps the draft locally at once and on the server shortly after typing stops. */
export function setDraft(id: Id, text: string) {
  state.drafts.set(id, text);
  const c = state.convs.get(id);
  if (c && (c.draft ?? '') !== text) state.convs.set(id, { ...c, draft: text || null });
  emit();
  clearTimeout(draftTimers.get(id));
  draftTimers.set(
    id,
    setTimeout(() => flushDraft(id), 700),
  );
}

export function flushDraft(id: Id) {
  const timer = draftTimers.get(id);
  if (timer === undefined) return;
  clearTimeout(timer);
  draftTimers.delete(id);
  const text = state.drafts.get(id) ?? '';
  if (draftSaved.get(id) === text) return;
  draftSaved.set(id, text);
  put(`/conversations/${id}/draft`, { text }).catch(() => draftSaved.delete(id));
}

addEventListener('beforeunload', () => {
  for (const id of [...draftTimers.keys()]) {
    const text = state.drafts.get(id) ?? '';
    clearTimeout(draftTimers.get(id));
    // keepalive lets the save finish while the page unloads.
    fetch(`/api/v1/conversations/${id}/draft`, {
      method: 'PUT',
      keepalive: true,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text }),
    });
  }
});

// ------------------------------------------------------------------ actions

async function act(id: Id, action: string, body?: unknown): Promise<Conversation | null> {
  try {
    const c = await post<Conversation>(`/conversations/${id}/${action}`, body);
    if (c && typeof c === 'object' && 'id' in c) {
      // An answer without `identity` is the summary given after handing the conversation
      // to someone else: the caller may no longer see it.
      if (!c.identity && action === 'assign') {
        await fetchConv(id);
      } else {
        putConv(c);
        place(id, false);
      }
    }
    emit();
    return c;
  } catch (e) {
    toastError(e);
    if (e instanceof ApiError && e.status === 404) fetchConv(id);
    return null;
  }
}

export const assign = (id: Id, userId: Id | null, teamId: Id | null) => act(id, 'assign', { user_id: userId, team_id: teamId });
export const closeConv = (id: Id, reason?: string) => act(id, 'close', reason ? { reason } : {});
export const reopen = (id: Id) => act(id, 'reopen');
export const snooze = (id: Id, until: Date) => act(id, 'snooze', { until: until.toISOString() });
export const noReplyNeeded = (id: Id) => act(id, 'no-reply-needed');
export async function markUnread(id: Id) {
  const c = await act(id, 'unread');
  if (c) {
    refreshUnread(100);
    if (state.openId === id) navigate({ name: 'inbox', id: null });
  }
}

export async function detachContact(id: Id): Promise<boolean> {
  try {
    const first = await post<{ confirm_token: string }>(`/conversations/${id}/detach-contact`, {});
    const c = await post<Conversation>(`/conversations/${id}/detach-contact`, { confirm_token: first.confirm_token });
    putConv(c);
    emit();
    return true;
  } catch (e) {
    toastError(e);
    return false;
  }
}

export async function deleteConversations(ids: Id[]): Promise<boolean> {
  try {
    if (ids.length === 1) await api('DELETE', `/conversations/${ids[0]}`);
    else await post('/conversations/bulk-delete', { ids });
    for (const id of ids) dropConv(id);
    state.selected = new Set();
    emit();
    refreshUnread(100);
    return true;
  } catch (e) {
    toastError(e);
    return false;
  }
}

export async function setBlocked(contactId: Id, blocked: boolean) {
  try {
    const c = await post<Contact>(`/contacts/${contactId}/${blocked ? 'block' : 'unblock'}`);
    putContact(c);
  } catch (e) {
    toastError(e);
  }
}

// ------------------------------------------------------------------ contacts

export async function loadContact(id: Id) {
  try {
    putContact(await get<Contact>(`/contacts/${id}`));
  } catch {
    /* not visible */
  }
}

export function putContact(c: Contact) {
  state.contacts.set(c.id, c);
  for (const conv of state.convs.values()) {
    if (conv.contact?.id === c.id) state.convs.set(conv.id, { ...conv, contact: { ...conv.contact, ...cardOf(c) } });
  }
  emit();
}

export async function updateContact(id: Id, patch: Partial<Contact>) {
  try {
    putContact(await api<Contact>('PATCH', `/contacts/${id}`, patch));
    return true;
  } catch (e) {
    toastError(e);
    return false;
  }
}

export async function setContactTags(id: Id, tagIds: Id[]) {
  try {
    putContact(await put<Contact>(`/contacts/${id}/tags`, { tag_ids: tagIds }));
  } catch (e) {
    toastError(e);
  }
}

// ------------------------------------------------------------------ toasts, notifications

let toastSeq = 0;
export function toast(t0: Omit<Toast, 'id'>, ms = 6000) {
  const id = ++toastSeq;
  state.toasts = [...state.toasts.slice(-3), { ...t0, id }];
  emit();
  setTimeout(() => dismissToast(id), ms);
}
export function dismissToast(id: number) {
  state.toasts = state.toasts.filter((x) => x.id !== id);
  emit();
}
export function toastError(e: unknown) {
  toast({ kind: 'error', title: t('error.title'), text: errText(e) }, 8000);
}

// Server error codes shown in the interface language (other codes show the server's text).
const KNOWN_ERRORS: Record<string, import('./i18n').TextKey> = {
  forbidden: 'error.forbidden',
  not_found: 'error.notFound',
  contact_blocked: 'error.contactBlocked',
  message_too_long: 'error.messageTooLong',
  email_taken: 'error.emailTaken',
  shortcut_taken: 'error.shortcutTaken',
  payload_too_large: 'error.tooLarge',
  too_many_attempts: 'auth.tooMany',
  ...MESSENGER_ERRORS,
};

export function errText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return t('error.network');
    const known = KNOWN_ERRORS[e.code];
    return known ? t(known) : e.message;
  }
  return String((e as Error)?.message ?? e);
}

export function setPref<K extends keyof Prefs>(k: K, v: Prefs[K]) {
  state.prefs = { ...state.prefs, [k]: v };
  localStorage.setItem('charla.prefs', JSON.stringify(state.prefs));
  emit();
}

const wideQuery = matchMedia('(min-width: 1180px)');
wideQuery.addEventListener('change', () => emit());

export function togglePanel(open?: boolean) {
  if (wideQuery.matches) setPref('contactPanel', open ?? !state.prefs.contactPanel);
  else {
    state.narrowPanel = open ?? !state.narrowPanel;
    emit();
  }
}

export const panelOpen = (s: State) => (wideQuery.matches ? s.prefs.contactPanel : s.narrowPanel);

export async function enableDesktopNotifications(): Promise<boolean> {
  if (!('Notification' in window)) return false;
  let p = Notification.permission;
  if (p === 'default') p = await Notification.requestPermission();
  setPref('desktop', p === 'granted');
  return p === 'granted';
}

let audioCtx: AudioContext | null = null;
function ding() {
  try {
    audioCtx ??= new AudioContext();
    const ctx = audioCtx;
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.type = 'sine';
    o.frequency.setValueAtTime(880, ctx.currentTime);
    o.frequency.setValueAtTime(1320, ctx.currentTime + 0.09);
    g.gain.setValueAtTime(0.0001, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.15, ctx.currentTime + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.3);
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.32);
  } catch {
    /* no audio */
  }
}

function alertUser(title: string, text: string, conversationId: Id | undefined, kind: Toast['kind']) {
  toast({ kind, title, text, conversationId });
  if (state.prefs.sound) ding();
  if (state.prefs.desktop && 'Notification' in window && Notification.permission === 'granted' && document.hidden) {
    const n = new Notification(title, { body: text, tag: conversationId ? `conv-${conversationId}` : undefined });
    n.onclick = () => {
      window.focus();
      if (conversationId) navigate({ name: 'inbox', id: conversationId });
      n.close();
    };
  }
}

export function contactName(c: Conversation | undefined): string {
  if (!c) return '';
  return c.contact?.name || c.identity?.name || t('conv.unknownContact');
}

// ------------------------------------------------------------------ realtime

function onFrame(f: WsFrame) {
  const d = f.data;
  switch (f.type) {
    case 'conversation.created':
    case 'conversation.updated': {
      const isNew = !state.convs.has(d.id);
      putConv(d as Conversation, true);
      if (isNew) {
        fetchConv(d.id).then((c) => {
          if (c) {
            place(c.id, true);
            emit();
          }
        });
      } else {
        const c = state.convs.get(d.id)!;
        if (c.contact && !('name' in c.contact)) fetchConv(d.id);
        place(d.id, false);
      }
      if (activeFilterCount(state.filters) || state.q.trim().length >= 4) scheduleCountsRefresh();
      break;
    }
    case 'conversation.removed':
    case 'conversation.deleted':
      dropConv(d.id);
      refreshUnread(300);
      break;
    case 'message.created': {
      const m = d as Message;
      addMessage(m);
      const c = state.convs.get(m.conversation_id);
      const viewing = state.openId === m.conversation_id && state.route.name === 'inbox' && !document.hidden;
      if (m.kind === 'inbound') {
        if (viewing) markRead(m.conversation_id);
        else {
          if (c) state.convs.set(c.id, { ...c, unread_count: c.unread_count + 1 });
          refreshUnread(150);
          const mineOrFree = !c || c.assignee_id === null || c.assignee_id === state.me?.id;
          if (mineOrFree) {
            alertUser(m.author.name || contactName(c), m.text || t('msg.attachment'), m.conversation_id, 'message');
          }
        }
      }
      if (!c) fetchConv(m.conversation_id).then(() => place(m.conversation_id, true));
      break;
    }
    case 'message.updated':
      addMessage(d as Message);
      break;
    case 'counts.updated':
      countsSeq++;
      if (!activeFilterCount(state.filters) && state.q.trim().length < 4) state.counts = d as Counts;
      else scheduleCountsRefresh();
      break;
    case 'notification.created': {
      const n = d as Notification;
      if (n.kind === 'snooze_reminder') alertUser(t('notify.snoozeReminder'), n.text, n.conversation_id ?? undefined, 'reminder');
      else if (n.kind === 'assigned') alertUser(t('notify.assigned'), n.text, n.conversation_id ?? undefined, 'info');
      break;
    }
    case 'typing': {
      const until = Date.now() + 4000;
      state.typing.set(d.conversation_id, { name: d.name, until });
      setTimeout(() => {
        const cur = state.typing.get(d.conversation_id);
        if (cur && cur.until <= Date.now()) {
          state.typing.delete(d.conversation_id);
          emit();
        }
      }, 4100);
      break;
    }
    case 'presence.updated':
    case 'user.created':
    case 'user.updated': {
      const u = d as User;
      if (u && typeof u.id === 'number' && 'email' in u) {
        state.users = new Map(state.users).set(u.id, u);
        if (u.id === state.me?.id) state.me = u;
      }
      break;
    }
    case 'channel.created':
    case 'channel.updated':
      if (d && 'kind' in d) state.channels = new Map(state.channels).set(d.id, d as Channel);
      break;
    case 'channel.deleted':
      state.channels = new Map(state.channels);
      state.channels.delete(d.id);
      break;
    case 'team.created':
    case 'team.updated':
      if (d && 'name' in d) state.teams = new Map(state.teams).set(d.id, d as Team);
      break;
    case 'team.deleted':
      state.teams = new Map(state.teams);
      state.teams.delete(d.id);
      break;
    case 'tag.created':
    case 'tag.updated':
      if (d && 'color' in d) state.tags = new Map(state.tags).set(d.id, d as Tag);
      break;
    case 'tag.deleted':
      state.tags = new Map(state.tags);
      state.tags.delete(d.id);
      break;
    case 'contact.updated':
    case 'contact.created':
      if (d && 'tag_ids' in d) putContact(d as Contact);
      break;
    case 'ready':
      // After a reconnect the missed events were replayed; refresh what frames do not carry.
      refreshUnread(0);
      break;
  }
  emit();
}

export function sendTyping(id: Id) {
  realtime?.send({ type: 'typing', conversation_id: id });
}

export function currentLang(): Lang {
  return getLang();
}
