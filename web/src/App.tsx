import { lazy, Suspense } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import { LANGS, t, tn, getLang } from './i18n';
import { Icon } from './icons';
import { Inbox } from './Inbox';
import { Login } from './Login';
import { Shortcuts, useGlobalShortcuts } from './Shortcuts';
import { Toasts } from './Toasts';
import {
  canManageSettings,
  chooseLang,
  enableDesktopNotifications,
  logout,
  navigate,
  setMe,
  setPref,
  state,
  useStore,
} from './store';
import { Avatar, Dropdown, MenuItem, Spinner } from './ui';
import { put } from './api';
import type { User } from './types';

const Settings = lazy(() => import('./Settings'));

export function App() {
  const booted = useStore((s) => s.booted);
  const me = useStore((s) => s.me);
  const lang = useStore(() => getLang());
  if (!booted) {
    return (
      <div class="boot">
        <Spinner size={28} />
      </div>
    );
  }
  if (!me) return <Login key={lang} />;
  return <Shell key={lang} />;
}

function Shell() {
  const route = useStore((s) => s.route);
  const [help, setHelp] = useState(false);
  useGlobalShortcuts(() => setHelp(true));
  return (
    <div class="shell">
      <Header onHelp={() => setHelp(true)} />
      <main class="main" id="main">
        {route.name === 'settings' ? (
          <Suspense fallback={<div class="center"><Spinner size={24} /></div>}>
            <Settings tab={route.tab} />
          </Suspense>
        ) : (
          <Inbox />
        )}
      </main>
      <Toasts />
      {help && <Shortcuts onClose={() => setHelp(false)} />}
    </div>
  );
}

function Header({ onHelp }: { onHelp: () => void }) {
  const me = useStore((s) => s.me)!;
  const route = useStore((s) => s.route.name);
  const unread = useStore((s) => s.unreadTotal);
  const online = useStore((s) => s.online);
  const prefs = useStore((s) => s.prefs);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Charla` : 'Charla';
  }, [unread]);
  const settingsAllowed = canManageSettings();
  return (
    <header class="topbar">
      <a class="brand" href="/" onClick={(e) => { e.preventDefault(); navigate({ name: 'inbox', id: state.openId }); }}>
        <svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="8" fill="var(--accent)" /><path d="M9 10.5A2.5 2.5 0 0 1 11.5 8h9A2.5 2.5 0 0 1 23 10.5v7a2.5 2.5 0 0 1-2.5 2.5H15l-4.2 3.4c-.5.4-1.3 0-1.3-.6V20A2.5 2.5 0 0 1 9 17.5z" fill="#fff" /></svg>
        <span>Charla</span>
      </a>
      <nav class="topnav" aria-label={t('nav.main')}>
        <a href="/" class={route === 'inbox' ? 'active' : ''} aria-current={route === 'inbox' ? 'page' : undefined} onClick={(e) => { e.preventDefault(); navigate({ name: 'inbox', id: state.openId }); }}>
          <Icon name="inbox" size={16} /> {t('nav.inbox')}
        </a>
        <a href="/settings/profile" class={route === 'settings' ? 'active' : ''} aria-current={route === 'settings' ? 'page' : undefined} onClick={(e) => { e.preventDefault(); navigate({ name: 'settings', tab: settingsAllowed ? 'users' : 'profile' }); }}>
          <Icon name="settings" size={16} /> {t('nav.settings')}
        </a>
      </nav>
      <div class="grow" />
      {!online && (
        <span class="conn-lost" role="status">
          <Spinner size={12} /> {t('header.reconnecting')}
        </span>
      )}
      <span class={'unread-pill' + (unread ? ' has' : '')} data-testid="unread-total" title={tn('header.unreadTitle', unread)} aria-label={tn('header.unreadTitle', unread)}>
        <Icon name="mailDot" size={16} />
        <span class="num">{unread}</span>
      </span>
      <button type="button" class="icon-btn" onClick={() => setPref('sound', !prefs.sound)} aria-pressed={prefs.sound} title={prefs.sound ? t('header.soundOn') : t('header.soundOff')} aria-label={t('header.sound')}>
        <Icon name={prefs.sound ? 'volume' : 'volumeOff'} />
      </button>
      <button
        type="button"
        class="icon-btn"
        aria-pressed={prefs.desktop}
        aria-label={t('header.desktop')}
        title={prefs.desktop ? t('header.desktopOn') : t('header.desktopOff')}
        onClick={() => (prefs.desktop ? setPref('desktop', false) : enableDesktopNotifications())}
      >
        <Icon name="bell" class={prefs.desktop ? 'on' : ''} />
      </button>
      <button type="button" class="icon-btn" onClick={onHelp} aria-label={t('shortcuts.title')} title={t('shortcuts.title') + ' (?)'}>
        <Icon name="keyboard" />
      </button>
      <Dropdown
        label={t('header.userMenu')}
        button={(p) => (
          <button type="button" class="user-btn" {...p} data-testid="user-menu">
            <Avatar name={me.name} size={28} presence={me.presence} />
            <span class="user-name">{me.name}</span>
            <Icon name="chevronDown" size={14} />
          </button>
        )}
      >
        {(close) => (
          <div class="menu" role="menu">
            <div class="menu-head">
              <strong>{me.name}</strong>
              <span class="muted">{me.email}</span>
            </div>
            <div class="menu-sep" />
            <div class="menu-label">{t('header.status')}</div>
            {(['online', 'away', 'offline'] as const).map((p) => (
              <MenuItem key={p} onClick={() => { put<User>('/users/me/presence', { status: p }).then(setMe); close(); }}>
                <span class={'presence-dot presence-' + p} /> {t(('presence.' + p) as 'presence.online')}
                {me.presence === p && <Icon name="check" size={14} class="right" />}
              </MenuItem>
            ))}
            <div class="menu-sep" />
            <div class="menu-label">{t('header.language')}</div>
            {LANGS.map((l) => (
              <MenuItem key={l.code} onClick={() => { close(); chooseLang(l.code); }}>
                <span lang={l.code} data-testid={'lang-' + l.code}>{l.name}</span>
                {getLang() === l.code && <Icon name="check" size={14} class="right" />}
              </MenuItem>
            ))}
            <div class="menu-sep" />
            <MenuItem icon="settings" onClick={() => { close(); navigate({ name: 'settings', tab: 'profile' }); }}>{t('settings.profile')}</MenuItem>
            <MenuItem icon="logout" onClick={() => { close(); logout(); }}>{t('auth.logout')}</MenuItem>
          </div>
        )}
      </Dropdown>
    </header>
  );
}
