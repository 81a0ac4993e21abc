// Keyboard shortcuts (ignored while typing in a field, except Escape) and their help overlay.
import { useEffect } from 'preact/hooks';
import { convActions } from './ConversationView';
import { t, type TextKey } from './i18n';
import { navigate, state } from './store';
import { Modal } from './ui';

const KEYS: [string[], TextKey][] = [
  [['j', '↓'], 'shortcuts.next'],
  [['k', '↑'], 'shortcuts.prev'],
  [['r'], 'shortcuts.reply'],
  [['n'], 'shortcuts.note'],
  [['a'], 'shortcuts.assign'],
  [['e'], 'shortcuts.close'],
  [['/'], 'shortcuts.search'],
  [['Esc'], 'shortcuts.escape'],
  [['Enter'], 'shortcuts.send'],
  [['Shift', 'Enter'], 'shortcuts.newline'],
  [[':'], 'shortcuts.canned'],
  [['!'], 'shortcuts.cannedList'],
  [['?'], 'shortcuts.help'],
];

function step(d: 1 | -1) {
  const ids = state.list.ids;
  if (!ids.length) return;
  const i = state.openId ? ids.indexOf(state.openId) : -1;
  const next = i < 0 ? (d === 1 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, i + d));
  navigate({ name: 'inbox', id: ids[next] });
}

export function useGlobalShortcuts(onHelp: () => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const el = e.target as HTMLElement;
      const typing = el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
      if (typing) return;
      if (document.querySelector('.modal-backdrop')) return;
      const inbox = state.route.name === 'inbox';
      const has = inbox && !!state.openId;
      let handled = true;
      switch (e.key) {
        case 'j':
        case 'ArrowDown':
          if (inbox) step(1);
          else handled = false;
          break;
        case 'k':
        case 'ArrowUp':
          if (inbox) step(-1);
          else handled = false;
          break;
        case 'r':
          if (has) convActions.focusReply?.();
          else handled = false;
          break;
        case 'n':
          if (has) convActions.focusNote?.();
          else handled = false;
          break;
        case 'a':
          if (has && convActions.openAssign) convActions.openAssign();
          else handled = false;
          break;
        case 'e':
          if (has && convActions.openClose) convActions.openClose();
          else handled = false;
          break;
        case '/':
          if (!inbox) navigate({ name: 'inbox', id: state.openId });
          setTimeout(() => document.getElementById('search')?.focus(), 0);
          break;
        case '?':
          onHelp();
          break;
        default:
          handled = false;
      }
      if (handled) e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

export function Shortcuts({ onClose }: { onClose: () => void }) {
  return (
    <Modal title={t('shortcuts.title')} onClose={onClose}>
      <table class="shortcuts" data-testid="shortcuts-help">
        <tbody>
          {KEYS.map(([keys, label]) => (
            <tr key={label}>
              <td>
                {keys.map((k, i) => (
                  <>
                    {i > 0 && (keys[0] === 'Shift' ? ' + ' : ' / ')}
                    <kbd>{k}</kbd>
                  </>
                ))}
              </td>
              <td>{t(label)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}
