// Settings (loaded on demand): profile for everyone; the workspace for admins and users with
// manage_settings. The server enforces every right; this only hides what would be refused.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, del, patch, post, put } from './api';
import { LANGS, t, type Lang, type TextKey } from './i18n';
import { Icon, channelIcon } from './icons';
import { canManageSettings, chooseLang, emit, isAdmin, loadDirectory, navigate, setMe, shallowArray, state, toast, toastError, useStore } from './store';
import type { ButtonMode, CannedResponse, Channel, CloseReason, Id, Tag, Team, User, WebsiteRule } from './types';
import { Avatar, Field, Modal } from './ui';
import { ChannelBadge, isMessenger, type MessengerKind } from './channelIcons';
import { ConnectModal, MessengerSetup, NewChannelChooser, accountLabel } from './channels/MessengerSetup';
import { TemplatesModal } from './channels/Templates';

const FLAGS = ['see_all_conversations', 'delete_conversations', 'manage_settings', 'see_group_chats'] as const;

const TABS: { key: string; label: TextKey; admin: boolean }[] = [
  { key: 'profile', label: 'settings.profile', admin: false },
  { key: 'users', label: 'settings.users', admin: true },
  { key: 'teams', label: 'settings.teams', admin: true },
  { key: 'channels', label: 'settings.channels', admin: true },
  { key: 'livechat', label: 'settings.livechat', admin: false },
  { key: 'tags', label: 'settings.tags', admin: true },
  { key: 'close-reasons', label: 'settings.closeReasons', admin: true },
  { key: 'canned', label: 'settings.canned', admin: false },
];

export default function Settings({ tab }: { tab: string }) {
  const manage = canManageSettings();
  const tabs = TABS.filter((x) => manage || !x.admin);
  const current = tabs.find((x) => x.key === tab) ? tab : 'profile';
  return (
    <div class="settings">
      <nav class="settings-nav" aria-label={t('nav.settings')}>
        <h1>{t('nav.settings')}</h1>
        {tabs.map((x) => (
          <a
            key={x.key}
            href={`/settings/${x.key}`}
            class={current === x.key ? 'active' : ''}
            aria-current={current === x.key ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate({ name: 'settings', tab: x.key });
            }}
          >
            {t(x.label)}
          </a>
        ))}
      </nav>
      <div class="settings-body">
        {current === 'profile' && <Profile />}
        {current === 'users' && <Users />}
        {current === 'teams' && <Teams />}
        {current === 'channels' && <Channels />}
        {current === 'livechat' && <LiveChat />}
        {current === 'tags' && <Tags />}
        {current === 'close-reasons' && <CloseReasons />}
        {current === 'canned' && <Canned />}
      </div>
    </div>
  );
}

function Page(props: { title: string; intro?: string; action?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="settings-page">
      <header class="settings-head">
        <div>
          <h2>{props.title}</h2>
          {props.intro && <p class="muted">{props.intro}</p>}
        </div>
        {props.action}
      </header>
      {props.children}
    </section>
  );
}

function useSave() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const run = async (f: () => Promise<unknown>, then?: () => void) => {
    setBusy(true);
    setError('');
    try {
      await f();
      then?.();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
    setBusy(false);
  };
  return { busy, error, run };
}

function FormModal(props: { title: string; onClose: () => void; onSubmit: () => void; busy: boolean; error: string; children: ComponentChildren; submit?: string; wide?: boolean }) {
  return (
    <Modal
      title={props.title}
      onClose={props.onClose}
      wide={props.wide}
      footer={
        <>
          <button type="button" class="btn" onClick={props.onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" form="settings-form" class="btn btn-primary" disabled={props.busy}>
            {props.submit ?? t('common.save')}
          </button>
        </>
      }
    >
      <form
        id="settings-form"
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          props.onSubmit();
        }}
      >
        {props.error && (
          <div class="form-error" role="alert">
            {props.error}
          </div>
        )}
        {props.children}
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ profile

function Profile() {
  const me = useStore((s) => s.me!);
  const [name, setName] = useState(me.name);
  const [display, setDisplay] = useState(me.display_name);
  const [cur, setCur] = useState('');
  const [pw, setPw] = useState('');
  const s = useSave();
  const p = useSave();
  return (
    <Page title={t('settings.profile')} intro={t('settings.profileIntro')}>
      <form
        class="card stack narrow"
        onSubmit={(e) => {
          e.preventDefault();
          s.run(async () => setMe(await patch<User>(`/users/${me.id}`, { name, display_name: display })), () => toast({ kind: 'info', title: t('common.saved'), text: '' }, 2500));
        }}
      >
        {s.error && <div class="form-error">{s.error}</div>}
        <Field label={t('user.name')}>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </Field>
        <Field label={t('user.displayName')} hint={t('user.displayNameHint')}>
          <input value={display} onInput={(e) => setDisplay(e.currentTarget.value)} placeholder={name} />
        </Field>
        <Field label={t('header.language')}>
          <select value={me.language} onChange={(e) => chooseLang(e.currentTarget.value as Lang)} data-testid="profile-language">
            {LANGS.map((l) => (
              <option key={l.code} value={l.code}>
                {l.name}
              </option>
            ))}
          </select>
        </Field>
        <div>
          <button type="submit" class="btn btn-primary" disabled={s.busy}>
            {t('common.save')}
          </button>
        </div>
      </form>
      <h3 class="sub">{t('user.changePassword')}</h3>
      <form
        class="card stack narrow"
        onSubmit={(e) => {
          e.preventDefault();
          p.run(
            () => patch(`/users/${me.id}`, { password: pw, current_password: cur }),
            () => {
              setCur('');
              setPw('');
              toast({ kind: 'info', title: t('user.passwordChanged'), text: '' }, 3000);
            },
          );
        }}
      >
        {p.error && <div class="form-error">{p.error}</div>}
        <Field label={t('user.currentPassword')}>
          <input type="password" autocomplete="current-password" value={cur} onInput={(e) => setCur(e.currentTarget.value)} required />
        </Field>
        <Field label={t('user.newPassword')}>
          <input type="password" autocomplete="new-password" value={pw} onInput={(e) => setPw(e.currentTarget.value)} required minLength={8} />
        </Field>
        <div>
          <button type="submit" class="btn" disabled={p.busy}>
            {t('user.changePassword')}
          </button>
        </div>
      </form>
    </Page>
  );
}

// ------------------------------------------------------------------ users

function Users() {
  const users = useStore((s) => [...s.users.values()].sort((a, b) => a.name.localeCompare(b.name)), shallowArray);
  const [edit, setEdit] = useState<User | 'new' | null>(null);
  return (
    <Page
      title={t('settings.users')}
      intro={t('settings.usersIntro')}
      action={
        <button type="button" class="btn btn-primary" onClick={() => setEdit('new')} data-testid="new-user">
          <Icon name="plus" size={15} /> {t('user.new')}
        </button>
      }
    >
      <table class="table">
        <thead>
          <tr>
            <th>{t('user.name')}</th>
            <th>{t('user.role')}</th>
            <th>{t('user.flags')}</th>
            <th>{t('user.status')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} class={u.active ? '' : 'inactive'}>
              <td>
                <div class="user-cell">
                  <Avatar name={u.name} size={30} presence={u.presence} />
                  <div>
                    <div>{u.name}</div>
                    <div class="muted small">{u.email}</div>
                  </div>
                </div>
              </td>
              <td>
                <span class={'role-chip role-' + u.role}>{t(u.role === 'admin' ? 'role.admin' : 'role.agent')}</span>
              </td>
              <td class="small">{u.role === 'admin' ? <span class="muted">{t('user.allRights')}</span> : u.flags.map((f) => t(('flag.' + f) as TextKey)).join(', ') || <span class="muted">—</span>}</td>
              <td class="small">{u.active ? t(('presence.' + u.presence) as TextKey) : t('user.inactive')}</td>
              <td class="right">
                <button type="button" class="icon-btn" onClick={() => setEdit(u)} aria-label={t('common.edit') + ' ' + u.name}>
                  <Icon name="edit" size={16} />
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {edit && <UserForm user={edit === 'new' ? null : edit} onClose={() => setEdit(null)} />}
    </Page>
  );
}

function UserForm({ user, onClose }: { user: User | null; onClose: () => void }) {
  const me = state.me!;
  const [f, setF] = useState({
    email: user?.email ?? '',
    name: user?.name ?? '',
    display_name: user?.display_name ?? '',
    password: '',
    role: user?.role ?? 'agent',
    flags: user?.flags ?? [],
    language: user?.language ?? 'en',
    max_concurrent: user?.max_concurrent ?? 0,
    active: user?.active ?? true,
  });
  const s = useSave();
  const self = user?.id === me.id;
  const submit = () =>
    s.run(async () => {
      let u: User;
      if (user) {
        const body: Record<string, unknown> = { name: f.name, display_name: f.display_name, language: f.language };
        if (!self) Object.assign(body, { role: f.role, flags: f.flags, active: f.active, max_concurrent: Number(f.max_concurrent) });
        if (f.password) body.password = f.password;
        u = await patch<User>(`/users/${user.id}`, body);
      } else {
        u = await post<User>('/users', { email: f.email, name: f.name, display_name: f.display_name || undefined, password: f.password, role: f.role, flags: f.flags, language: f.language });
      }
      state.users = new Map(state.users).set(u.id, u);
      if (u.id === me.id) setMe(u);
      emit();
    }, onClose);
  return (
    <FormModal title={user ? t('user.edit') : t('user.new')} onClose={onClose} onSubmit={submit} busy={s.busy} error={s.error}>
      {!user && (
        <Field label={t('user.email')}>
          <input type="email" value={f.email} onInput={(e) => setF({ ...f, email: e.currentTarget.value })} required name="email" />
        </Field>
      )}
      <div class="grid2">
        <Field label={t('user.name')}>
          <input value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} required name="name" />
        </Field>
        <Field label={t('user.displayName')}>
          <input value={f.display_name} onInput={(e) => setF({ ...f, display_name: e.currentTarget.value })} name="display_name" />
        </Field>
      </div>
      <Field label={user ? t('user.newPasswordOptional') : t('user.password')}>
        <input type="password" autocomplete="new-password" value={f.password} onInput={(e) => setF({ ...f, password: e.currentTarget.value })} required={!user} minLength={8} name="password" />
      </Field>
      <div class="grid2">
        <Field label={t('user.role')}>
          <select value={f.role} disabled={self} onChange={(e) => setF({ ...f, role: e.currentTarget.value as User['role'] })} name="role">
            <option value="agent">{t('role.agent')}</option>
            {isAdmin() && <option value="admin">{t('role.admin')}</option>}
          </select>
        </Field>
        <Field label={t('header.language')}>
          <select value={f.language} onChange={(e) => setF({ ...f, language: e.currentTarget.value })}>
            {LANGS.map((l) => (
              <option key={l.code} value={l.code}>
                {l.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {f.role === 'agent' && (
        <fieldset class="checks" disabled={self}>
          <legend class="field-label">{t('user.flags')}</legend>
          {FLAGS.map((fl) => (
            <label key={fl} class="check-row">
              <input type="checkbox" checked={f.flags.includes(fl)} onChange={(e) => setF({ ...f, flags: e.currentTarget.checked ? [...f.flags, fl] : f.flags.filter((x) => x !== fl) })} name={fl} />
              {t(('flag.' + fl) as TextKey)}
            </label>
          ))}
        </fieldset>
      )}
      {user && !self && (
        <div class="grid2">
          <Field label={t('user.maxConcurrent')} hint={t('user.maxConcurrentHint')}>
            <input type="number" min={0} max={1000} value={f.max_concurrent} onInput={(e) => setF({ ...f, max_concurrent: Number(e.currentTarget.value) })} />
          </Field>
          <label class="check-row align-end">
            <input type="checkbox" checked={f.active} onChange={(e) => setF({ ...f, active: e.currentTarget.checked })} />
            {t('user.active')}
          </label>
        </div>
      )}
    </FormModal>
  );
}

// ------------------------------------------------------------------ teams

function MemberPicker({ value, onChange }: { value: Id[]; onChange: (ids: Id[]) => void }) {
  const users = useStore((s) => [...s.users.values()].filter((u) => u.active).sort((a, b) => a.name.localeCompare(b.name)), shallowArray);
  return (
    <fieldset class="checks member-picker">
      <legend class="field-label">{t('team.members')}</legend>
      {users.map((u) => (
        <label key={u.id} class="check-row">
          <input type="checkbox" checked={value.includes(u.id)} onChange={(e) => onChange(e.currentTarget.checked ? [...value, u.id] : value.filter((x) => x !== u.id))} />
          <Avatar name={u.name} size={20} /> {u.name}
        </label>
      ))}
    </fieldset>
  );
}

function Teams() {
  const teams = useStore((s) => [...s.teams.values()], shallowArray);
  const users = useStore((s) => s.users);
  const [edit, setEdit] = useState<Team | 'new' | null>(null);
  return (
    <Page
      title={t('settings.teams')}
      intro={t('settings.teamsIntro')}
      action={
        <button type="button" class="btn btn-primary" onClick={() => setEdit('new')}>
          <Icon name="plus" size={15} /> {t('team.new')}
        </button>
      }
    >
      {!teams.length && <p class="empty-note">{t('team.none')}</p>}
      <div class="cards">
        {teams.map((x) => (
          <div key={x.id} class="card item-card">
            <div class="grow">
              <strong>{x.name}</strong>
              <div class="muted small">{x.member_ids.map((id) => users.get(id)?.name).filter(Boolean).join(', ') || t('team.noMembers')}</div>
            </div>
            <button type="button" class="icon-btn" onClick={() => setEdit(x)} aria-label={t('common.edit') + ' ' + x.name}>
              <Icon name="edit" size={16} />
            </button>
            <button
              type="button"
              class="icon-btn"
              onClick={async () => {
                if (!confirm(t('common.confirmDelete', { name: x.name }))) return;
                try {
                  await del(`/teams/${x.id}`);
                  state.teams = new Map(state.teams);
                  state.teams.delete(x.id);
                  emit();
                } catch (e) {
                  toastError(e);
                }
              }}
              aria-label={t('common.delete') + ' ' + x.name}
            >
              <Icon name="trash" size={16} />
            </button>
          </div>
        ))}
      </div>
      {edit && <TeamForm team={edit === 'new' ? null : edit} onClose={() => setEdit(null)} />}
    </Page>
  );
}

function TeamForm({ team, onClose }: { team: Team | null; onClose: () => void }) {
  const [name, setName] = useState(team?.name ?? '');
  const [members, setMembers] = useState<Id[]>(team?.member_ids ?? []);
  const s = useSave();
  return (
    <FormModal
      title={team ? t('team.edit') : t('team.new')}
      onClose={onClose}
      busy={s.busy}
      error={s.error}
      onSubmit={() =>
        s.run(async () => {
          const x = team ? await patch<Team>(`/teams/${team.id}`, { name, member_ids: members }) : await post<Team>('/teams', { name, member_ids: members });
          state.teams = new Map(state.teams).set(x.id, x);
          emit();
        }, onClose)
      }
    >
      <Field label={t('team.name')}>
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </Field>
      <MemberPicker value={members} onChange={setMembers} />
    </FormModal>
  );
}

// ------------------------------------------------------------------ channels

function Channels() {
  const channels = useStore((s) => [...s.channels.values()], shallowArray);
  const [edit, setEdit] = useState<Channel | 'new' | 'new-website' | null>(null);
  const [secret, setSecret] = useState<Channel | null>(null);
  // Messengers (channels/MessengerSetup.tsx, channels/Templates.tsx): kind choice, setup, connection, templates.
  const [pick, setPick] = useState(false);
  const [msgr, setMsgr] = useState<{ setup: MessengerKind } | { connect: Channel } | { templates: Channel } | null>(null);
  return (
    <Page
      title={t('settings.channels')}
      intro={t('settings.channelsIntro')}
      action={
        <div class="row-gap">
          <button type="button" class="btn btn-primary" onClick={() => setPick(true)} data-testid="new-channel">
            <Icon name="plus" size={15} /> {t('msgr.newChannel')}
          </button>
        </div>
      }
    >
      {!channels.length && <p class="empty-note">{t('channel.none')}</p>}
      <div class="cards">
        {channels.map((c) => (
          <div key={c.id} class={'card item-card' + (c.active ? '' : ' inactive')}>
            <ChannelBadge kind={c.kind} />
            <div class="grow">
              <strong>{c.name}</strong>
              <div class="muted small">
                {t(('channelKind.' + c.kind) as TextKey)} · {t(c.routing_mode === 'auto' ? 'channel.routingAuto' : 'channel.routingManual')} · {t('channel.membersCount', { n: c.member_ids.length })}
                {!c.active && ' · ' + t('channel.inactive')}
                {isMessenger(c.kind) && accountLabel(c) && ' · ' + accountLabel(c)}
              </div>
            </div>
            {isMessenger(c.kind) && (
              <span class="ch-row-actions">
                <button type="button" class="btn btn-sm" onClick={() => setMsgr({ connect: c })} data-testid="channel-connect">
                  {t('msgr.connection')}
                </button>
                <button type="button" class="btn btn-sm" onClick={() => setMsgr({ templates: c })} data-testid="channel-templates">
                  {t('tpl.title')}
                </button>
              </span>
            )}
            <button type="button" class="icon-btn" onClick={() => setEdit(c)} aria-label={t('common.edit') + ' ' + c.name}>
              <Icon name="edit" size={16} />
            </button>
          </div>
        ))}
      </div>
      {edit && (
        <ChannelForm
          channel={typeof edit === 'string' ? null : edit}
          kind={edit === 'new-website' || (typeof edit === 'object' && edit.kind === 'website') ? 'website' : 'api'}
          onClose={() => setEdit(null)}
          onSecret={setSecret}
        />
      )}
      {pick && (
        <NewChannelChooser
          onClose={() => setPick(false)}
          onPick={(k) => {
            setPick(false);
            if (k === 'api') setEdit('new');
            else if (k === 'website') setEdit('new-website');
            else setMsgr({ setup: k });
          }}
        />
      )}
      {msgr && 'setup' in msgr && <MessengerSetup kind={msgr.setup} onClose={() => setMsgr(null)} />}
      {msgr && 'connect' in msgr && <ConnectModal channel={msgr.connect} onClose={() => setMsgr(null)} />}
      {msgr && 'templates' in msgr && <TemplatesModal channel={msgr.templates} onClose={() => setMsgr(null)} />}
      {secret && (
        <Modal title={t('channel.secretTitle')} onClose={() => setSecret(null)} footer={<button type="button" class="btn btn-primary" onClick={() => setSecret(null)}>{t('common.done')}</button>}>
          <p>{t('channel.secretText')}</p>
          <dl class="props">
            <dt>{t('channel.webhookInbound')}</dt>
            <dd>
              <code class="copyable">{location.origin}/hooks/api/{secret.id}</code>
            </dd>
            <dt>{t('channel.secret')}</dt>
            <dd>
              <code class="copyable" data-testid="channel-secret">{secret.secret}</code>
            </dd>
          </dl>
        </Modal>
      )}
    </Page>
  );
}

const mins = (secs: number | null | undefined) => (secs ? String(Math.round(secs / 60)) : '');

function ChannelForm({ channel, kind, onClose, onSecret }: { channel: Channel | null; kind: 'api' | 'website'; onClose: () => void; onSecret: (c: Channel) => void }) {
  const website = kind === 'website';
  const [w, setW] = useState(() => {
    const o = channel?.website;
    return {
      button_text: o?.button_text ?? 'Have a question? Chat with us.',
      button_color: o?.button_color ?? '#875a7b',
      header_color: o?.header_color ?? '#875a7b',
      placeholder: o?.placeholder ?? 'Ask something…',
      origins: (o?.allowed_origins ?? []).join('\n'),
      ratings_page_public: o?.ratings_page_public ?? false,
      rules: (o?.rules ?? []) as WebsiteRule[],
    };
  });
  const [f, setF] = useState({
    name: channel?.name ?? '',
    webhook_url: channel?.webhook_url ?? '',
    routing_mode: channel?.routing_mode ?? (website ? 'auto' : 'manual'),
    max_message_length: String(channel?.max_message_length ?? 2000),
    auto_close: mins(channel?.auto_close_after_secs),
    response: mins(channel?.response_time_limit_secs ?? 900),
    greeting: channel?.greeting ?? '',
    active: channel?.active ?? true,
  });
  const [members, setMembers] = useState<Id[]>(channel?.member_ids ?? [state.me!.id]);
  const s = useSave();
  const set = (p: Partial<typeof f>) => setF({ ...f, ...p });
  const submit = () =>
    s.run(async () => {
      const body = {
        name: f.name,
        webhook_url: f.webhook_url || null,
        routing_mode: f.routing_mode,
        max_message_length: Number(f.max_message_length) || undefined,
        auto_close_after_secs: f.auto_close ? Number(f.auto_close) * 60 : null,
        response_time_limit_secs: Number(f.response || 15) * 60,
        greeting: f.greeting || null,
      };
      const site = website
        ? {
            button_text: w.button_text,
            button_color: w.button_color,
            header_color: w.header_color,
            placeholder: w.placeholder,
            allowed_origins: w.origins.split(/\s+/).filter(Boolean),
            ratings_page_public: w.ratings_page_public,
            rules: w.rules.map((r) => ({ ...r, url_regex: r.url_regex || null })),
          }
        : undefined;
      let c: Channel;
      if (channel) {
        c = await patch<Channel>(`/channels/${channel.id}`, { ...body, active: f.active, website: site });
      } else if (website) {
        c = await post<Channel>('/channels', { kind: 'website', ...body, webhook_url: undefined, auto_close_after_secs: body.auto_close_after_secs ?? undefined, greeting: f.greeting || undefined, website: site });
      } else {
        c = await post<Channel>('/channels', { kind: 'api', ...body, webhook_url: f.webhook_url || undefined, auto_close_after_secs: body.auto_close_after_secs ?? undefined, greeting: f.greeting || undefined });
        onSecret(c);
      }
      const sameMembers = [...members].sort().join() === [...c.member_ids].sort().join();
      if (!sameMembers) await put(`/channels/${c.id}/members`, { user_ids: members });
      await loadDirectory();
    }, onClose);
  return (
    <FormModal title={channel ? t('channel.edit') : website ? t('channel.newWebsite') : t('channel.newApi')} onClose={onClose} onSubmit={submit} busy={s.busy} error={s.error} wide>
      {website && channel?.embed_snippet && <WidgetBox channel={channel} />}
      <div class="grid2">
        <Field label={t('channel.name')}>
          <input value={f.name} onInput={(e) => set({ name: e.currentTarget.value })} required name="name" />
        </Field>
        {!website && (!channel || channel.kind === 'api') && (
          <Field label={t('channel.webhookUrl')} hint={t('channel.webhookHint')}>
            <input type="url" value={f.webhook_url} onInput={(e) => set({ webhook_url: e.currentTarget.value })} placeholder="https://" name="webhook_url" />
          </Field>
        )}
        <Field label={t('channel.routing')}>
          <select value={f.routing_mode} onChange={(e) => set({ routing_mode: e.currentTarget.value as Channel['routing_mode'] })}>
            <option value="manual">{t('channel.routingManual')}</option>
            <option value="auto">{t('channel.routingAuto')}</option>
          </select>
        </Field>
        <Field label={t('channel.maxLength')}>
          <input type="number" min={1} value={f.max_message_length} onInput={(e) => set({ max_message_length: e.currentTarget.value })} />
        </Field>
        <Field label={t('channel.responseLimit')} hint={t('channel.minutes')}>
          <input type="number" min={1} value={f.response} onInput={(e) => set({ response: e.currentTarget.value })} />
        </Field>
        <Field label={t('channel.autoClose')} hint={t('channel.autoCloseHint')}>
          <input type="number" min={1} value={f.auto_close} onInput={(e) => set({ auto_close: e.currentTarget.value })} />
        </Field>
      </div>
      <Field label={website ? t('website.welcome') : t('channel.greeting')}>
        <textarea rows={2} value={f.greeting} onInput={(e) => set({ greeting: e.currentTarget.value })} name="greeting" />
      </Field>
      {website && <WebsiteFields w={w} setW={setW} />}
      {channel && (
        <label class="check-row">
          <input type="checkbox" checked={f.active} onChange={(e) => set({ active: e.currentTarget.checked })} />
          {t('channel.active')}
        </label>
      )}
      <MemberPicker value={members} onChange={setMembers} />
      {channel && (
        <div class="row-gap">
          <button
            type="button"
            class="btn btn-sm"
            hidden={website}
            onClick={() =>
              s.run(async () => {
                const c = await post<Channel>(`/channels/${channel.id}/rotate-secret`);
                onSecret(c);
              }, onClose)
            }
          >
            <Icon name="refresh" size={14} /> {t('channel.rotate')}
          </button>
          <button
            type="button"
            class="btn btn-sm btn-danger-ghost"
            onClick={() => {
              if (!confirm(t('common.confirmDelete', { name: channel.name }))) return;
              s.run(async () => {
                await del(`/channels/${channel.id}`);
                await loadDirectory();
              }, onClose);
            }}
          >
            <Icon name="trash" size={14} /> {t('common.delete')}
          </button>
        </div>
      )}
    </FormModal>
  );
}

// ------------------------------------------------------------------ tags

function Tags() {
  const tags = useStore((s) => [...s.tags.values()].sort((a, b) => a.name.localeCompare(b.name)), shallowArray);
  const [name, setName] = useState('');
  const [color, setColor] = useState('#6366f1');
  const s = useSave();
  const upd = async (tg: Tag, p: Partial<Tag>) => {
    try {
      const n = await patch<Tag>(`/tags/${tg.id}`, p);
      state.tags = new Map(state.tags).set(n.id, n);
      emit();
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <Page title={t('settings.tags')} intro={t('settings.tagsIntro')}>
      <form
        class="card inline-create"
        onSubmit={(e) => {
          e.preventDefault();
          s.run(async () => {
            const tg = await post<Tag>('/tags', { name, color });
            state.tags = new Map(state.tags).set(tg.id, tg);
            setName('');
            emit();
          });
        }}
      >
        <input type="color" value={color} onInput={(e) => setColor(e.currentTarget.value)} aria-label={t('tag.color')} class="color-input" />
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder={t('tag.name')} aria-label={t('tag.name')} required class="grow" />
        <button type="submit" class="btn btn-primary" disabled={s.busy}>
          {t('common.add')}
        </button>
      </form>
      {s.error && <div class="form-error">{s.error}</div>}
      <table class="table">
        <tbody>
          {tags.map((tg) => (
            <tr key={tg.id}>
              <td class="w-color">
                <input type="color" class="color-input" value={tg.color} onChange={(e) => upd(tg, { color: e.currentTarget.value })} aria-label={t('contact.tagColor', { name: tg.name })} />
              </td>
              <td>
                <span class="tag-chip" style={{ '--tag': tg.color }}>
                  {tg.name}
                </span>
              </td>
              <td>
                <label class="check-row">
                  <input type="checkbox" checked={tg.pinned} onChange={(e) => upd(tg, { pinned: e.currentTarget.checked })} />
                  {t('tag.pinned')}
                </label>
              </td>
              <td class="right">
                <button
                  type="button"
                  class="icon-btn"
                  onClick={async () => {
                    const n = prompt(t('tag.rename'), tg.name);
                    if (n && n.trim() && n !== tg.name) upd(tg, { name: n.trim() });
                  }}
                  aria-label={t('tag.rename') + ' ' + tg.name}
                >
                  <Icon name="edit" size={16} />
                </button>
                <button
                  type="button"
                  class="icon-btn"
                  onClick={async () => {
                    if (!confirm(t('common.confirmDelete', { name: tg.name }))) return;
                    try {
                      await del(`/tags/${tg.id}`);
                      state.tags = new Map(state.tags);
                      state.tags.delete(tg.id);
                      emit();
                    } catch (e) {
                      toastError(e);
                    }
                  }}
                  aria-label={t('common.delete') + ' ' + tg.name}
                >
                  <Icon name="trash" size={16} />
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!tags.length && <p class="empty-note">{t('tag.none')}</p>}
    </Page>
  );
}

// ------------------------------------------------------------------ close reasons

function CloseReasons() {
  const reasons = useStore((s) => s.closeReasons);
  const [name, setName] = useState('');
  const s = useSave();
  return (
    <Page title={t('settings.closeReasons')} intro={t('settings.closeReasonsIntro')}>
      <form
        class="card inline-create"
        onSubmit={(e) => {
          e.preventDefault();
          s.run(async () => {
            const r = await post<CloseReason>('/close-reasons', { name });
            state.closeReasons = [...state.closeReasons, r];
            setName('');
            emit();
          });
        }}
      >
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder={t('closeReason.name')} aria-label={t('closeReason.name')} required class="grow" />
        <button type="submit" class="btn btn-primary" disabled={s.busy}>
          {t('common.add')}
        </button>
      </form>
      {s.error && <div class="form-error">{s.error}</div>}
      <ul class="simple-list">
        {reasons.map((r) => (
          <li key={r.id}>
            <span class="grow">{r.name}</span>
            <button
              type="button"
              class="icon-btn"
              onClick={async () => {
                try {
                  await del(`/close-reasons/${r.id}`);
                  state.closeReasons = state.closeReasons.filter((x) => x.id !== r.id);
                  emit();
                } catch (e) {
                  toastError(e);
                }
              }}
              aria-label={t('common.delete') + ' ' + r.name}
            >
              <Icon name="trash" size={16} />
            </button>
          </li>
        ))}
      </ul>
      {!reasons.length && <p class="empty-note">{t('closeReason.none')}</p>}
    </Page>
  );
}

// ------------------------------------------------------------------ canned responses

function Canned() {
  const list = useStore((s) => s.canned);
  const [edit, setEdit] = useState<CannedResponse | 'new' | null>(null);
  const manage = canManageSettings();
  const me = state.me!;
  return (
    <Page
      title={t('settings.canned')}
      intro={t('settings.cannedIntro')}
      action={
        <button type="button" class="btn btn-primary" onClick={() => setEdit('new')}>
          <Icon name="plus" size={15} /> {t('canned.new')}
        </button>
      }
    >
      <table class="table">
        <thead>
          <tr>
            <th>{t('canned.shortcut')}</th>
            <th>{t('canned.text')}</th>
            <th>{t('canned.scope')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((c) => {
            const mine = c.personal ? c.owner_id === me.id : manage;
            return (
              <tr key={c.id}>
                <td>
                  <code>:{c.shortcut}</code>
                </td>
                <td class="clip">{c.text}</td>
                <td class="small">{c.personal ? t('canned.personal') : t('canned.workspace')}</td>
                <td class="right nowrap">
                  {mine && (
                    <>
                      <button type="button" class="icon-btn" onClick={() => setEdit(c)} aria-label={t('common.edit') + ' :' + c.shortcut}>
                        <Icon name="edit" size={16} />
                      </button>
                      <button
                        type="button"
                        class="icon-btn"
                        onClick={async () => {
                          try {
                            await del(`/canned-responses/${c.id}`);
                            state.canned = state.canned.filter((x) => x.id !== c.id);
                            emit();
                          } catch (e) {
                            toastError(e);
                          }
                        }}
                        aria-label={t('common.delete') + ' :' + c.shortcut}
                      >
                        <Icon name="trash" size={16} />
                      </button>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {!list.length && <p class="empty-note">{t('canned.none')}</p>}
      {edit && <CannedForm item={edit === 'new' ? null : edit} onClose={() => setEdit(null)} />}
    </Page>
  );
}

function CannedForm({ item, onClose }: { item: CannedResponse | null; onClose: () => void }) {
  const manage = canManageSettings();
  const [shortcut, setShortcut] = useState(item?.shortcut ?? '');
  const [text, setText] = useState(item?.text ?? '');
  const [personal, setPersonal] = useState(item ? item.personal : !manage);
  const s = useSave();
  return (
    <FormModal
      title={item ? t('canned.edit') : t('canned.new')}
      onClose={onClose}
      busy={s.busy}
      error={s.error}
      wide
      onSubmit={() =>
        s.run(async () => {
          const c = item
            ? await api<CannedResponse>('PATCH', `/canned-responses/${item.id}`, { shortcut, text })
            : await post<CannedResponse>('/canned-responses', { shortcut: shortcut.replace(/^[:!]/, ''), text, personal });
          state.canned = item ? state.canned.map((x) => (x.id === c.id ? c : x)) : [...state.canned, c];
          emit();
        }, onClose)
      }
    >
      <Field label={t('canned.shortcut')} hint={t('canned.shortcutHint')}>
        <input value={shortcut} onInput={(e) => setShortcut(e.currentTarget.value)} required />
      </Field>
      <Field label={t('canned.text')} hint={t('canned.variables')}>
        <textarea rows={6} value={text} onInput={(e) => setText(e.currentTarget.value)} required />
      </Field>
      {!item && (
        <label class="check-row">
          <input type="checkbox" checked={personal} disabled={!manage} onChange={(e) => setPersonal(e.currentTarget.checked)} />
          {t('canned.personalOnly')}
        </label>
      )}
    </FormModal>
  );
}

// ------------------------------------------------------------------ website channels

function Copy({ text, id }: { text: string; id: string }) {
  const [done, setDone] = useState(false);
  return (
    <div class="snippet">
      <code data-testid={id}>{text}</code>
      <button
        type="button"
        class="btn btn-sm"
        data-testid={id + '-copy'}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
          } catch {
            /* the text stays selectable */
          }
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        }}
      >
        {done ? t('common.copied') : t('common.copy')}
      </button>
    </div>
  );
}

function WidgetBox({ channel }: { channel: Channel }) {
  return (
    <div class="card widget-box" data-testid="widget-box">
      <strong>{t('website.widget')}</strong>
      <p class="muted small">{t('website.snippetHint')}</p>
      <Copy text={channel.embed_snippet ?? ''} id="embed-snippet" />
      <p class="muted small">{t('website.linkHint')}</p>
      <Copy text={channel.chat_link ?? ''} id="chat-link" />
      {channel.website?.ratings_page_public && (
        <p class="small">
          <a href={channel.website.ratings_url} target="_blank" rel="noopener">
            {t('website.ratingsLink')}
          </a>
        </p>
      )}
    </div>
  );
}

type WebsiteForm = {
  button_text: string;
  button_color: string;
  header_color: string;
  placeholder: string;
  origins: string;
  ratings_page_public: boolean;
  rules: WebsiteRule[];
};

const BUTTONS: ButtonMode[] = ['show', 'show_with_notification', 'open_automatically', 'hide'];

function WebsiteFields({ w, setW }: { w: WebsiteForm; setW: (w: WebsiteForm) => void }) {
  const set = (p: Partial<WebsiteForm>) => setW({ ...w, ...p });
  const setRule = (i: number, p: Partial<WebsiteRule>) => set({ rules: w.rules.map((r, j) => (j === i ? { ...r, ...p } : r)) });
  return (
    <>
      <div class="grid2">
        <Field label={t('website.buttonText')}>
          <input value={w.button_text} onInput={(e) => set({ button_text: e.currentTarget.value })} name="button_text" />
        </Field>
        <Field label={t('website.placeholder')}>
          <input value={w.placeholder} onInput={(e) => set({ placeholder: e.currentTarget.value })} name="placeholder" />
        </Field>
      </div>
      <div class="colors">
        <label class="check-row">
          <input type="color" value={w.button_color} onInput={(e) => set({ button_color: e.currentTarget.value })} class="color-input" />
          {t('website.buttonColor')}
        </label>
        <label class="check-row">
          <input type="color" value={w.header_color} onInput={(e) => set({ header_color: e.currentTarget.value })} class="color-input" />
          {t('website.headerColor')}
        </label>
      </div>
      <Field label={t('website.origins')} hint={t('website.originsHint')}>
        <textarea rows={2} value={w.origins} onInput={(e) => set({ origins: e.currentTarget.value })} name="allowed_origins" placeholder="https://shop.example.com" />
      </Field>
      <label class="check-row">
        <input type="checkbox" checked={w.ratings_page_public} onChange={(e) => set({ ratings_page_public: e.currentTarget.checked })} />
        {t('website.ratingsPublic')}
      </label>
      <div class="field">
        <span class="field-label">{t('website.rules')}</span>
        {w.rules.map((r, i) => (
          <div class="rule-row" key={i} data-testid="rule-row">
            <input placeholder={t('website.ruleUrl')} aria-label={t('website.ruleUrl')} value={r.url_regex ?? ''} onInput={(e) => setRule(i, { url_regex: e.currentTarget.value })} />
            <input
              placeholder={t('website.ruleCountries')}
              aria-label={t('website.ruleCountries')}
              value={r.countries.join(', ')}
              onInput={(e) => setRule(i, { countries: e.currentTarget.value.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase()) })}
            />
            <select value={r.button} onChange={(e) => setRule(i, { button: e.currentTarget.value as ButtonMode })} aria-label="button">
              {BUTTONS.map((b) => (
                <option value={b}>{t(('website.btn.' + b) as TextKey)}</option>
              ))}
            </select>
            <input
              type="number"
              min={0}
              max={3600}
              placeholder={t('website.ruleSecs')}
              aria-label={t('website.ruleSecs')}
              disabled={r.button !== 'open_automatically'}
              value={r.auto_open_after_secs ?? ''}
              onInput={(e) => setRule(i, { auto_open_after_secs: e.currentTarget.value === '' ? null : Number(e.currentTarget.value) })}
            />
            <button type="button" class="icon-btn" aria-label={t('common.delete')} onClick={() => set({ rules: w.rules.filter((_, j) => j !== i) })}>
              <Icon name="trash" size={14} />
            </button>
          </div>
        ))}
        <button type="button" class="btn btn-sm" onClick={() => set({ rules: [...w.rules, { url_regex: '', countries: [], button: 'show', auto_open_after_secs: null }] })}>
          <Icon name="plus" size={14} /> {t('website.addRule')}
        </button>
      </div>
    </>
  );
}

interface LivechatChannel {
  id: Id;
  name: string;
  joined: boolean;
  operators: number;
  available: number;
  online: number;
}

/** Every operator joins or leaves the website channels here. */
function LiveChat() {
  const [list, setList] = useState<LivechatChannel[] | null>(null);
  const s = useSave();
  useEffect(() => {
    api<LivechatChannel[]>('GET', '/livechat/channels').then(setList, (e) => toastError(e));
  }, []);
  const toggle = (c: LivechatChannel) =>
    s.run(async () => {
      const n = await post<LivechatChannel>(`/livechat/channels/${c.id}/${c.joined ? 'leave' : 'join'}`);
      setList((l) => (l ?? []).map((x) => (x.id === n.id ? n : x)));
      await loadDirectory();
    });
  return (
    <Page title={t('settings.livechat')} intro={t('livechat.intro')}>
      {list && !list.length && <p class="empty-note">{t('livechat.none')}</p>}
      {s.error && <div class="form-error">{s.error}</div>}
      <div class="cards">
        {(list ?? []).map((c) => (
          <div key={c.id} class="card item-card" data-testid="livechat-channel">
            <span class="channel-badge">
              <Icon name={channelIcon('website')} size={18} />
            </span>
            <div class="grow">
              <strong>{c.name}</strong>
              <div class="muted small">{t('livechat.status', { online: c.online, available: c.available, n: c.operators })}</div>
            </div>
            <button type="button" class={'btn btn-sm' + (c.joined ? '' : ' btn-primary')} disabled={s.busy} onClick={() => toggle(c)} data-testid={c.joined ? 'livechat-leave' : 'livechat-join'}>
              {c.joined ? t('livechat.leave') : t('livechat.join')}
            </button>
          </div>
        ))}
      </div>
    </Page>
  );
}
