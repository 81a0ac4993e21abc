import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { clockTime, dayLabel, fullTime, t } from './i18n';
import { Icon } from './icons';
import { ChannelIcon } from './channelIcons';
import { Composer, type ComposerHandle } from './Composer';
import {
  assign,
  canAssign,
  canDelete,
  closeConv,
  contactName,
  deleteConversations,
  detachContact,
  discardPending,
  loadOlder,
  markRead,
  markUnread,
  navigate,
  noReplyNeeded,
  reopen,
  send,
  setBlocked,
  togglePanel,
  panelOpen,
  shallowArray,
  snooze,
  state,
  useStore,
} from './store';
import type { Conversation, Id, Message } from './types';
import { Avatar, Dropdown, MenuItem, Modal, Spinner, formatSize } from './ui';

/** Lets the keyboard shortcuts reach the open conversation. */
export const convActions: {
  focusReply?: () => void;
  focusNote?: () => void;
  openAssign?: () => void;
  openClose?: () => void;
} = {};

export function ConversationView({ id }: { id: Id }) {
  const c = useStore((s) => s.convs.get(id));
  const composer = useRef<ComposerHandle | null>(null);
  const [assignOpen, setAssignOpen] = useState(false);
  const [closeOpen, setCloseOpen] = useState(false);
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    convActions.focusReply = () => composer.current?.focus(false);
    convActions.focusNote = () => composer.current?.focus(true);
    convActions.openAssign = () => setAssignOpen(true);
    convActions.openClose = () => setCloseOpen(true);
    return () => {
      convActions.focusReply = convActions.focusNote = convActions.openAssign = convActions.openClose = undefined;
    };
  }, []);
  // Reading: opening marks read, and so does coming back to the tab.
  useEffect(() => {
    const onVis = () => {
      const cur = state.convs.get(id);
      if (!document.hidden && cur && (cur.unread_count > 0 || cur.marked_unread)) markRead(id);
    };
    document.addEventListener('visibilitychange', onVis);
    return () => document.removeEventListener('visibilitychange', onVis);
  }, [id]);
  if (!c) {
    return (
      <div class="center">
        <Spinner size={24} />
      </div>
    );
  }
  return (
    <div
      class="conversation"
      data-testid="conversation"
      data-id={id}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node)) setDragging(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        if (e.dataTransfer?.files.length) composer.current?.addFiles(e.dataTransfer.files);
      }}
    >
      <ConvHeader c={c} assignOpen={assignOpen} setAssignOpen={setAssignOpen} closeOpen={closeOpen} setCloseOpen={setCloseOpen} />
      <MessageList id={id} onQuote={(m) => composer.current?.quote(m)} onCanned={(m) => composer.current?.createCanned(m)} />
      <Composer id={id} handle={composer} />
      {dragging && (
        <div class="drop-overlay" aria-hidden="true">
          <Icon name="paperclip" size={28} />
          {t('composer.drop')}
        </div>
      )}
    </div>
  );
}

// ------------------------------------------------------------------ header

function ConvHeader(props: { c: Conversation; assignOpen: boolean; setAssignOpen: (o: boolean) => void; closeOpen: boolean; setCloseOpen: (o: boolean) => void }) {
  const { c } = props;
  const channel = useStore((s) => s.channels.get(c.channel_id));
  const assignee = useStore((s) => (c.assignee_id ? s.users.get(c.assignee_id) : undefined));
  const team = useStore((s) => (c.team_id ? s.teams.get(c.team_id) : undefined));
  const blocked = !!c.contact?.blocked;
  const [confirm, setConfirm] = useState<null | 'detach' | 'delete'>(null);
  const name = contactName(c);
  return (
    <header class="conv-header">
      <button type="button" class="conv-who" onClick={() => togglePanel()} aria-label={t('contact.toggle')} title={t('contact.toggle')}>
        <Avatar name={name} url={c.contact?.avatar_url} size={36} />
        <span class="conv-who-text">
          <span class="conv-name" data-testid="conv-name">
            {name}
            {blocked && <span class="status-chip status-blocked">{t('contact.blocked')}</span>}
          </span>
          <span class="conv-sub">
            {channel && (
              <>
                <ChannelIcon kind={channel.kind} size={14} title={null} /> {channel.name}
              </>
            )}
            <span class={'status-chip status-' + c.status} data-testid="conv-status">
              {t(('status.' + c.status) as 'status.open')}
            </span>
            {c.status === 'snoozed' && c.snoozed_until && <span class="muted">{t('conv.snoozedUntil', { time: fullTime(c.snoozed_until) })}</span>}
            <span class="muted">·</span>
            <span data-testid="conv-assignee">{assignee ? assignee.name : team ? team.name : t('conv.unassigned')}</span>
          </span>
        </span>
      </button>
      <div class="grow" />
      <div class="conv-actions">
        {canAssign(c) && <AssignMenu c={c} open={props.assignOpen} setOpen={props.setAssignOpen} />}
        {c.status === 'open' && <SnoozeMenu c={c} />}
        {c.status === 'closed' ? (
          <button type="button" class="btn btn-sm" onClick={() => reopen(c.id)} data-testid="reopen" title={t('action.reopen')}>
            <Icon name="reopen" size={15} /> <span class="label">{t('action.reopen')}</span>
          </button>
        ) : (
          <CloseMenu c={c} open={props.closeOpen} setOpen={props.setCloseOpen} />
        )}
        <Dropdown
          label={t('action.more')}
          button={(p) => (
            <button type="button" class="icon-btn" {...p} title={t('action.more')} data-testid="more-actions">
              <Icon name="more" />
            </button>
          )}
        >
          {(close) => (
            <div class="menu" role="menu">
              <MenuItem icon="mailDot" onClick={() => { close(); markUnread(c.id); }}>
                {t('action.markUnread')}
              </MenuItem>
              {c.unanswered && c.status === 'open' && (
                <MenuItem icon="noReply" onClick={() => { close(); noReplyNeeded(c.id); }}>
                  {t('action.noReplyNeeded')}
                </MenuItem>
              )}
              {c.status === 'snoozed' && (
                <MenuItem icon="reopen" onClick={() => { close(); reopen(c.id); }}>
                  {t('action.wake')}
                </MenuItem>
              )}
              {c.contact && (
                <>
                  <div class="menu-sep" />
                  <MenuItem icon="ban" onClick={() => { close(); setBlocked(c.contact!.id, !blocked); }}>
                    {blocked ? t('action.unblock') : t('action.block')}
                  </MenuItem>
                  <MenuItem icon="unlink" onClick={() => { close(); setConfirm('detach'); }}>
                    {t('action.detach')}
                  </MenuItem>
                </>
              )}
              {canDelete() && (
                <>
                  <div class="menu-sep" />
                  <MenuItem icon="trash" danger onClick={() => { close(); setConfirm('delete'); }}>
                    {t('action.delete')}
                  </MenuItem>
                </>
              )}
            </div>
          )}
        </Dropdown>
        <button type="button" class="icon-btn" onClick={() => togglePanel()} aria-pressed={panelOpen(state)} aria-label={t('contact.toggle')} title={t('contact.toggle')}>
          <Icon name="panel" />
        </button>
      </div>
      {confirm === 'detach' && (
        <Confirm
          title={t('action.detachTitle')}
          text={t('action.detachText')}
          action={t('action.detach')}
          onCancel={() => setConfirm(null)}
          onConfirm={async () => {
            setConfirm(null);
            await detachContact(c.id);
          }}
        />
      )}
      {confirm === 'delete' && (
        <Confirm
          title={t('action.deleteTitle')}
          text={t('action.deleteText')}
          action={t('action.delete')}
          onCancel={() => setConfirm(null)}
          onConfirm={async () => {
            setConfirm(null);
            if (await deleteConversations([c.id])) navigate({ name: 'inbox', id: null });
          }}
        />
      )}
    </header>
  );
}

export function Confirm(props: { title: string; text: string; action: string; onCancel: () => void; onConfirm: () => void }) {
  return (
    <Modal
      title={props.title}
      onClose={props.onCancel}
      footer={
        <>
          <button type="button" class="btn" onClick={props.onCancel}>
            {t('common.cancel')}
          </button>
          <button type="button" class="btn btn-danger" onClick={props.onConfirm} data-testid="confirm">
            {props.action}
          </button>
        </>
      }
    >
      <p>{props.text}</p>
    </Modal>
  );
}

function AssignMenu({ c, open, setOpen }: { c: Conversation; open: boolean; setOpen: (o: boolean) => void }) {
  const users = useStore((s) => [...s.users.values()].filter((u) => u.active), shallowArray);
  const teams = useStore((s) => [...s.teams.values()], shallowArray);
  const me = useStore((s) => s.me!);
  const [q, setQ] = useState('');
  const channel = state.channels.get(c.channel_id);
  const match = (n: string) => !q || n.toLowerCase().includes(q.toLowerCase());
  const sorted = users
    .filter((u) => match(u.name))
    .sort((a, b) => Number(b.id === me.id) - Number(a.id === me.id) || Number(!!channel?.member_ids.includes(b.id)) - Number(!!channel?.member_ids.includes(a.id)) || a.name.localeCompare(b.name));
  return (
    <Dropdown
      label={t('action.assign')}
      open={open}
      onOpenChange={setOpen}
      button={(p) => (
        <button type="button" class="btn btn-sm" {...p} data-testid="assign" title={c.assignee_id ? t('action.reassign') : t('action.assign')}>
          <Icon name="user" size={15} /> <span class="label">{c.assignee_id ? t('action.reassign') : t('action.assign')}</span>
        </button>
      )}
    >
      {(close) => (
        <div class="menu menu-scroll" role="menu">
          <div class="menu-search">
            <input type="search" placeholder={t('action.assignSearch')} aria-label={t('action.assignSearch')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
          </div>
          {c.assignee_id !== me.id && match(me.name) && (
            <MenuItem icon="user" onClick={() => { close(); setOpen(false); assign(c.id, me.id, c.team_id); }}>
              {t('action.assignMe')}
            </MenuItem>
          )}
          <div class="menu-label">{t('action.operators')}</div>
          {sorted.map((u) => (
            <button
              key={u.id}
              type="button"
              role="menuitemradio"
              aria-checked={c.assignee_id === u.id}
              class="menu-item"
              data-testid={'assign-user-' + u.id}
              onClick={() => {
                close();
                setOpen(false);
                assign(c.id, u.id, c.team_id);
              }}
            >
              <Avatar name={u.name} size={22} presence={u.presence} />
              <span class="grow">{u.name}</span>
              {c.assignee_id === u.id && <Icon name="check" size={14} />}
            </button>
          ))}
          {teams.length > 0 && <div class="menu-label">{t('action.teams')}</div>}
          {teams
            .filter((x) => match(x.name))
            .map((x) => (
              <button
                key={x.id}
                type="button"
                role="menuitemradio"
                aria-checked={c.team_id === x.id}
                class="menu-item"
                onClick={() => {
                  close();
                  setOpen(false);
                  assign(c.id, c.assignee_id, c.team_id === x.id ? null : x.id);
                }}
              >
                <Icon name="users" size={16} />
                <span class="grow">{x.name}</span>
                {c.team_id === x.id && <Icon name="check" size={14} />}
              </button>
            ))}
          {(c.assignee_id || c.team_id) && (
            <>
              <div class="menu-sep" />
              <MenuItem icon="x" onClick={() => { close(); setOpen(false); assign(c.id, null, null); }}>
                {t('action.unassign')}
              </MenuItem>
            </>
          )}
        </div>
      )}
    </Dropdown>
  );
}

function CloseMenu({ c, open, setOpen }: { c: Conversation; open: boolean; setOpen: (o: boolean) => void }) {
  const reasons = useStore((s) => s.closeReasons);
  if (!reasons.length && !open) {
    return (
      <button type="button" class="btn btn-sm btn-primary" onClick={() => closeConv(c.id)} data-testid="close">
        <Icon name="checkCircle" size={15} /> {t('action.close')}
      </button>
    );
  }
  return (
    <Dropdown
      label={t('action.close')}
      open={open}
      onOpenChange={setOpen}
      button={(p) => (
        <button type="button" class="btn btn-sm btn-primary" {...p} data-testid="close">
          <Icon name="checkCircle" size={15} /> {t('action.close')}
          <Icon name="chevronDown" size={14} />
        </button>
      )}
    >
      {(close) => (
        <div class="menu" role="menu">
          <div class="menu-label">{t('action.closeReason')}</div>
          {reasons.map((r) => (
            <MenuItem key={r.id} onClick={() => { close(); setOpen(false); closeConv(c.id, r.name); }}>
              {r.name}
            </MenuItem>
          ))}
          <div class="menu-sep" />
          <MenuItem onClick={() => { close(); setOpen(false); closeConv(c.id); }}>{t('action.closeNoReason')}</MenuItem>
        </div>
      )}
    </Dropdown>
  );
}

function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function SnoozeMenu({ c }: { c: Conversation }) {
  const [custom, setCustom] = useState(() => localInput(new Date(Date.now() + 24 * 3600e3)));
  const presets: { label: string; at: () => Date }[] = [
    { label: t('snooze.hour'), at: () => new Date(Date.now() + 3600e3) },
    { label: t('snooze.threeHours'), at: () => new Date(Date.now() + 3 * 3600e3) },
    {
      label: t('snooze.tomorrow'),
      at: () => {
        const d = new Date();
        d.setDate(d.getDate() + 1);
        d.setHours(9, 0, 0, 0);
        return d;
      },
    },
    {
      label: t('snooze.nextWeek'),
      at: () => {
        const d = new Date();
        d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7));
        d.setHours(9, 0, 0, 0);
        return d;
      },
    },
  ];
  return (
    <Dropdown
      label={t('action.snooze')}
      button={(p) => (
        <button type="button" class="btn btn-sm" {...p} data-testid="snooze" title={t('action.snooze')}>
          <Icon name="snooze" size={15} /> <span class="label">{t('action.snooze')}</span>
        </button>
      )}
    >
      {(close) => (
        <div class="menu" role="menu">
          <div class="menu-label">{t('snooze.until')}</div>
          {presets.map((p) => (
            <MenuItem key={p.label} onClick={() => { close(); snooze(c.id, p.at()); }} hint={clockTime(p.at().toISOString())}>
              {p.label}
            </MenuItem>
          ))}
          <div class="menu-sep" />
          <form
            class="snooze-custom"
            onSubmit={(e) => {
              e.preventDefault();
              const d = new Date(custom);
              if (!isNaN(d.getTime()) && d.getTime() > Date.now()) {
                close();
                snooze(c.id, d);
              }
            }}
          >
            <label class="field">
              <span class="field-label">{t('snooze.custom')}</span>
              <input type="datetime-local" value={custom} min={localInput(new Date())} onInput={(e) => setCustom(e.currentTarget.value)} />
            </label>
            <button type="submit" class="btn btn-sm btn-primary">
              {t('action.snooze')}
            </button>
          </form>
        </div>
      )}
    </Dropdown>
  );
}

// ------------------------------------------------------------------ messages

function MessageList({ id, onQuote, onCanned }: { id: Id; onQuote: (m: Message) => void; onCanned: (m: Message) => void }) {
  const th = useStore((s) => s.threads.get(id));
  const typing = useStore((s) => s.typing.get(id));
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const prevHeight = useRef<number | null>(null);
  const items = th?.items ?? [];
  const lastId = items.length ? items[items.length - 1].id + ':' + items[items.length - 1].status + items.length : '';

  // Stay at the bottom when new messages come, unless the operator scrolled up to read.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (prevHeight.current !== null) {
      el.scrollTop = el.scrollHeight - prevHeight.current + el.scrollTop;
      prevHeight.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [lastId, items.length, !!typing]);

  // Images and media change the height after they load: stay at the bottom if we were there.
  const inner = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || !inner.current) return;
    const ro = new ResizeObserver(() => {
      if (stick.current && prevHeight.current === null) el.scrollTop = el.scrollHeight;
    });
    ro.observe(inner.current);
    return () => ro.disconnect();
  }, [!!th?.loaded]);

  const onScroll = () => {
    const el = box.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 150 && th && th.nextBefore !== null && !th.loadingOlder) {
      prevHeight.current = el.scrollHeight;
      loadOlder(id);
    }
  };

  if (!th || (!th.loaded && !items.length)) {
    return (
      <div class="messages center" aria-busy="true">
        <Spinner size={22} />
      </div>
    );
  }
  const byId = new Map(items.map((m) => [m.id, m]));
  const out: ComponentChildren[] = [];
  let lastDay = '';
  let prev: Message | null = null;
  for (const m of items) {
    const day = new Date(m.created_at).toDateString();
    if (day !== lastDay) {
      out.push(
        <div class="day-sep" key={'d' + day}>
          <span>{dayLabel(m.created_at)}</span>
        </div>,
      );
      lastDay = day;
      prev = null;
    }
    const grouped = !!prev && prev.kind === m.kind && prev.author.id === m.author.id && prev.author.type === m.author.type && Date.parse(m.created_at) - Date.parse(prev.created_at) < 5 * 60e3;
    out.push(<MessageItem key={m.pending ? 'c' + m.client_msg_id : m.id} m={m} quoted={m.reply_to ? byId.get(m.reply_to) : undefined} grouped={grouped} onQuote={onQuote} onCanned={onCanned} />);
    prev = m;
  }
  return (
    <div class="messages" ref={box} onScroll={onScroll} role="log" aria-live="polite" aria-label={t('conv.messages')} tabIndex={0}>
      <div class="messages-inner" ref={inner}>
      {th.loadingOlder && (
        <div class="center small-pad">
          <Spinner />
        </div>
      )}
      {th.nextBefore === null && items.length > 0 && <div class="history-start muted small">{t('conv.historyStart')}</div>}
      {out}
      {th.error && <div class="form-error">{th.error}</div>}
      {typing && (
        <div class="typing-line" aria-live="polite">
          <span class="typing-dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {t('conv.typingName', { name: typing.name })}
        </div>
      )}
      </div>
    </div>
  );
}

const URL_RE = /(https?:\/\/[^\s<]+[^\s<.,;:!?)\]'"])/g;

function RichText({ text }: { text: string }) {
  const parts = text.split(URL_RE);
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <a key={i} href={p} target="_blank" rel="noopener noreferrer">
            {p}
          </a>
        ) : (
          p
        ),
      )}
    </>
  );
}

function StatusIcon({ m }: { m: Message }) {
  if (m.kind !== 'outbound') return null;
  if (m.pending === 'sending') return <Icon name="clock" size={14} class="st st-queued" title={t('msgStatus.sending')} />;
  switch (m.status) {
    case 'queued':
      return (
        <span class="st-wrap" data-status="queued" title={t('msgStatus.queued')}>
          <Icon name="clock" size={14} class="st st-queued" title={t('msgStatus.queued')} />
        </span>
      );
    case 'sent':
      return (
        <span class="st-wrap" data-status="sent" title={t('msgStatus.sent')}>
          <Icon name="check" size={15} class="st st-sent" title={t('msgStatus.sent')} />
        </span>
      );
    case 'delivered':
      return (
        <span class="st-wrap" data-status="delivered" title={t('msgStatus.delivered')}>
          <Icon name="checks" size={16} class="st st-delivered" title={t('msgStatus.delivered')} />
        </span>
      );
    case 'read':
      return (
        <span class="st-wrap" data-status="read" title={t('msgStatus.read')}>
          <Icon name="checks" size={16} class="st st-read" title={t('msgStatus.read')} />
        </span>
      );
    case 'failed':
      return (
        <span class="st-wrap st-failed-wrap" data-status="failed" tabIndex={0} aria-label={t('msgStatus.failed') + ': ' + (m.error || '')}>
          <Icon name="alert" size={15} class="st st-failed" />
          <span class="tip" role="tooltip">
            {t('msgStatus.failed')}
            {m.error ? ': ' + m.error : ''}
          </span>
        </span>
      );
  }
  return null;
}

function Attachments({ m }: { m: Message }) {
  if (!m.attachments.length) return null;
  return (
    <div class="attachments">
      {m.attachments.map((a) => {
        const ct = a.content_type || '';
        if (ct.startsWith('image/'))
          return (
            <a key={a.id} href={a.url} target="_blank" rel="noopener" class="att-image" title={a.name}>
              <img src={a.url} alt={a.name} loading="lazy" />
            </a>
          );
        if (ct.startsWith('audio/'))
          return (
            <div key={a.id} class="att-media">
              <audio controls preload="metadata" src={a.url} aria-label={a.name} />
            </div>
          );
        if (ct.startsWith('video/'))
          return (
            <div key={a.id} class="att-media">
              <video controls preload="metadata" src={a.url} aria-label={a.name} />
            </div>
          );
        return (
          <a key={a.id} href={a.url} download={a.name} class="att-file">
            <Icon name="file" size={22} />
            <span class="att-info">
              <span class="att-name">{a.name}</span>
              <span class="muted small">{formatSize(a.size)}</span>
            </span>
            <Icon name="download" size={16} />
          </a>
        );
      })}
    </div>
  );
}

/** A history line in the operator's language, from the server's structured data when it has it. */
function eventText(m: Message): string {
  const e = m.event;
  const who = (v: string | null | undefined) => v ?? '—';
  switch (e?.type) {
    case 'assigned':
      return t('event.assigned', { to: who(e.to) });
    case 'unassigned':
      return t('event.unassigned', { from: who(e.from) });
    case 'transferred':
      return t('event.transferred', { from: who(e.from), to: who(e.to) });
    case 'reassigned':
      return t('event.reassigned', { from: who(e.from), to: who(e.to) });
    case 'closed':
      return e.reason ? t('event.closedReason', { reason: e.reason }) : t('event.closed');
    case 'reopened':
      return t('event.reopened');
    case 'snoozed':
      return typeof e.until === 'number' ? t('event.snoozed', { until: fullTime(new Date(e.until).toISOString()) }) : m.text;
    case 'snooze_ended':
      return t('event.snoozeEnded');
    case 'contact_detached':
      return t('event.contactDetached');
    default:
      return m.text;
  }
}

function MessageItem({ m, quoted, grouped, onQuote, onCanned }: { m: Message; quoted?: Message; grouped: boolean; onQuote: (m: Message) => void; onCanned: (m: Message) => void }) {
  if (m.kind === 'event') {
    return (
      <div class="event-line" data-testid="event">
        <span>
          {eventText(m)} · {clockTime(m.created_at)}
        </span>
      </div>
    );
  }
  const side = m.kind === 'inbound' ? 'in' : 'out';
  return (
    <div
      class={`msg msg-${side}` + (m.kind === 'note' ? ' msg-note' : '') + (grouped ? ' grouped' : '') + (m.pending === 'error' ? ' msg-error' : '')}
      data-testid="message"
      data-kind={m.kind}
      data-id={m.pending ? undefined : m.id}
    >
      {!grouped && m.kind !== 'inbound' && (
        <div class="msg-author">
          {m.kind === 'note' && <Icon name="lock" size={12} />}
          {m.author.name}
          {m.kind === 'note' && <span class="note-label">· {t('msg.note')}</span>}
        </div>
      )}
      <div class="msg-row">
        <div class="bubble">
          {m.reply_to && (
            <div class="quote">
              {quoted ? (
                <>
                  <strong>{quoted.author.name}</strong>
                  <span>{quoted.text || (quoted.attachments[0]?.name ?? '')}</span>
                </>
              ) : (
                <span class="muted">{t('msg.quotedMissing')}</span>
              )}
            </div>
          )}
          <Attachments m={m} />
          {m.text && (
            <div class="msg-text">
              <RichText text={m.text} />
            </div>
          )}
          <span class="msg-meta">
            <time dateTime={m.created_at} title={fullTime(m.created_at)}>
              {clockTime(m.created_at)}
            </time>
            <StatusIcon m={m} />
          </span>
        </div>
        {!m.pending && (
          <div class="msg-actions">
            <button type="button" class="icon-btn sm" onClick={() => onQuote(m)} aria-label={t('msg.quote')} title={t('msg.quote')}>
              <Icon name="reply" size={15} />
            </button>
            {m.text && (
              <button type="button" class="icon-btn sm" onClick={() => onCanned(m)} aria-label={t('msg.toCanned')} title={t('msg.toCanned')}>
                <Icon name="zap" size={15} />
              </button>
            )}
          </div>
        )}
      </div>
      {m.pending === 'error' && (
        <div class="msg-failed">
          <Icon name="alert" size={14} /> {m.error}
          <button
            type="button"
            class="link-btn"
            onClick={() => send(m.conversation_id, { text: m.text, note: m.kind === 'note', replyTo: m.reply_to, attachments: m.attachments }, m)}
          >
            {t('common.retry')}
          </button>
          <button type="button" class="link-btn" onClick={() => discardPending(m.conversation_id, m.client_msg_id!)}>
            {t('common.discard')}
          </button>
        </div>
      )}
    </div>
  );
}
