// Small shared pieces: avatar, dropdown, modal, spinner.
import type { ComponentChildren, JSX } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n';
import { Icon } from './icons';

const PALETTE = ['#4f46e5', '#0891b2', '#059669', '#d97706', '#db2777', '#7c3aed', '#2563eb', '#dc2626', '#0d9488', '#9333ea'];

export function colorFor(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return PALETTE[Math.abs(h) % PALETTE.length];
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  const a = [...parts[0]][0] ?? '';
  const b = parts.length > 1 ? ([...parts[parts.length - 1]][0] ?? '') : '';
  return (a + b).toUpperCase();
}

export function Avatar({ name, url, size = 36, presence }: { name: string; url?: string | null; size?: number; presence?: string }) {
  const [broken, setBroken] = useState(false);
  return (
    <span class="avatar" style={{ width: size, height: size, fontSize: Math.round(size * 0.38), background: url && !broken ? undefined : colorFor(name) }} aria-hidden="true">
      {url && !broken ? <img src={url} alt="" onError={() => setBroken(true)} /> : initials(name)}
      {presence && <span class={'presence presence-' + presence} />}
    </span>
  );
}

export function Spinner({ size = 16 }: { size?: number }) {
  return <span class="spinner" style={{ width: size, height: size }} role="status" aria-label={t('common.loading')} />;
}

/** Closes on outside click and Escape. */
function useDismiss(open: boolean, close: () => void, ref: { current: HTMLElement | null }) {
  useLayoutEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) close();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        close();
      }
    };
    document.addEventListener('mousedown', onDown, true);
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('mousedown', onDown, true);
      document.removeEventListener('keydown', onKey, true);
    };
  }, [open]);
}

export function Dropdown(props: {
  label: string;
  button: (p: { onClick: () => void; 'aria-expanded': boolean; 'aria-haspopup': 'menu' | 'dialog'; 'aria-label': string; ref: any }) => JSX.Element;
  children: (close: () => void) => ComponentChildren;
  align?: 'left' | 'right';
  up?: boolean;
  class?: string;
  open?: boolean;
  onOpenChange?: (o: boolean) => void;
}) {
  const [openState, setOpenState] = useState(false);
  const open = props.open ?? openState;
  const setOpen = (o: boolean) => {
    setOpenState(o);
    props.onOpenChange?.(o);
  };
  const wrap = useRef<HTMLDivElement>(null);
  const btn = useRef<HTMLElement>(null);
  const close = () => {
    setOpen(false);
    btn.current?.focus();
  };
  useDismiss(open, () => setOpen(false), wrap);
  useLayoutEffect(() => {
    if (open) {
      const first = wrap.current?.querySelector<HTMLElement>('.pop [autofocus], .pop input, .pop select, .pop button, .pop [tabindex="0"]');
      first?.focus();
    }
  }, [open]);
  return (
    <div class={'dropdown ' + (props.class ?? '')} ref={wrap}>
      {props.button({ onClick: () => setOpen(!open), 'aria-expanded': open, 'aria-haspopup': 'menu', 'aria-label': props.label, ref: btn })}
      {open && (
        <div class={`pop ${props.align === 'left' ? 'pop-left' : 'pop-right'} ${props.up ? 'pop-up' : ''}`} role="dialog" aria-label={props.label}>
          {props.children(close)}
        </div>
      )}
    </div>
  );
}

export function MenuItem(props: { icon?: import('./icons').IconName; onClick: () => void; danger?: boolean; disabled?: boolean; children: ComponentChildren; hint?: string }) {
  return (
    <button type="button" class={'menu-item' + (props.danger ? ' danger' : '')} onClick={props.onClick} disabled={props.disabled} role="menuitem">
      {props.icon && <Icon name={props.icon} size={16} />}
      <span class="grow">{props.children}</span>
      {props.hint && <kbd>{props.hint}</kbd>}
    </button>
  );
}

export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; footer?: ComponentChildren; wide?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const prevFocus = useRef<Element | null>(document.activeElement);
  // A layout effect: the keys must work as soon as the dialog is on screen (an effect runs
  // after paint, so an Escape pressed right after opening went to nobody).
  useLayoutEffect(() => {
    const first = box.current?.querySelector<HTMLElement>('[autofocus], input, select, textarea, button:not(.modal-x)');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        props.onClose();
      } else if (e.key === 'Tab' && box.current) {
        const els = [...box.current.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex="0"]')].filter((x) => !(x as HTMLButtonElement).disabled);
        if (!els.length) return;
        const first = els[0];
        const last = els[els.length - 1];
        if (e.shiftKey && document.activeElement === first) {
          last.focus();
          e.preventDefault();
        } else if (!e.shiftKey && document.activeElement === last) {
          first.focus();
          e.preventDefault();
        }
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      (prevFocus.current as HTMLElement | null)?.focus?.();
    };
  }, []);
  return (
    <div class="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={'modal' + (props.wide ? ' modal-wide' : '')} role="dialog" aria-modal="true" aria-label={props.title} ref={box}>
        <header class="modal-head">
          <h2>{props.title}</h2>
          <button type="button" class="icon-btn modal-x" onClick={props.onClose} aria-label={t('common.close')}>
            <Icon name="x" />
          </button>
        </header>
        <div class="modal-body">{props.children}</div>
        {props.footer && <footer class="modal-foot">{props.footer}</footer>}
      </div>
    </div>
  );
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.hint && <span class="field-hint">{props.hint}</span>}
    </label>
  );
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
