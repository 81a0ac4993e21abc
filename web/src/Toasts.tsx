import { t } from './i18n';
import { Icon } from './icons';
import { dismissToast, navigate, useStore } from './store';

export function Toasts() {
  const toasts = useStore((s) => s.toasts);
  return (
    <div class="toasts" role="region" aria-label={t('notify.region')} aria-live="polite">
      {toasts.map((x) => (
        <div key={x.id} class={'toast toast-' + x.kind} role={x.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          <span class="toast-icon" aria-hidden="true">
            <Icon name={x.kind === 'message' ? 'inbox' : x.kind === 'error' ? 'alert' : x.kind === 'reminder' ? 'snooze' : 'bell'} size={18} />
          </span>
          <button
            type="button"
            class="toast-body"
            onClick={() => {
              if (x.conversationId) navigate({ name: 'inbox', id: x.conversationId });
              dismissToast(x.id);
            }}
          >
            <strong>{x.title}</strong>
            <span class="toast-text">{x.text}</span>
          </button>
          <button type="button" class="icon-btn xs" onClick={() => dismissToast(x.id)} aria-label={t('common.close')}>
            <Icon name="x" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
