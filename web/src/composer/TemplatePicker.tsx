// The composer's template picker: the approved templates of the conversation's messenger
// channel, a live preview, one input per {{n}} parameter, and send.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t, tn } from '../i18n';
import { Icon } from '../icons';
import { canManageSettings, errText, navigate, send } from '../store';
import { TEMPLATE_MAX, cachedTemplates, loadTemplates, paramCount, paramProblem, renderTemplate, templatePieces } from '../templates';
import type { Channel, Id, Template } from '../types';
import { Dropdown, Spinner } from '../ui';

export function TemplatePicker({ convId, channel, highlight, disabled }: { convId: Id; channel: Channel; highlight: boolean; disabled: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <Dropdown
      label={t('tpl.pick')}
      align="left"
      up
      class="tpl-dd"
      open={open}
      onOpenChange={setOpen}
      button={(p) => (
        <button
          type="button"
          class={highlight ? 'btn btn-sm tpl-btn tpl-highlight' : 'icon-btn tpl-btn'}
          {...p}
          disabled={disabled}
          title={disabled ? t('window.closedInstagram') : t('tpl.pickHint')}
          data-testid="template-button"
        >
          <TemplateIcon size={highlight ? 15 : 18} />
          {highlight && <span>{t('tpl.pick')}</span>}
        </button>
      )}
    >
      {() => <TemplatePanel convId={convId} channel={channel} onDone={() => setOpen(false)} />}
    </Dropdown>
  );
}

/** A page with lines and a {} mark: "a prepared message". */
function TemplateIcon({ size }: { size: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" />
      <path d="M14 2v6h6" />
      <path d="M8 13h8M8 17h5" />
    </svg>
  );
}

function TemplatePanel({ convId, channel, onDone }: { convId: Id; channel: Channel; onDone: () => void }) {
  const [list, setList] = useState<Template[] | undefined>(() => cachedTemplates(channel.id));
  const [error, setError] = useState('');
  const [q, setQ] = useState('');
  const [chosen, setChosen] = useState<Template | null>(null);
  useEffect(() => {
    loadTemplates(channel.id).then(setList, (e) => setError(errText(e)));
  }, [channel.id]);
  if (chosen) return <TemplateFill convId={convId} tpl={chosen} onBack={() => setChosen(null)} onDone={onDone} />;
  const approved = (list ?? []).filter((x) => x.status === 'approved');
  const others = (list?.length ?? 0) - approved.length;
  const ql = q.trim().toLowerCase();
  const shown = approved.filter((x) => !ql || x.name.toLowerCase().includes(ql) || x.body.toLowerCase().includes(ql));
  return (
    <div class="tpl-panel" data-testid="template-picker">
      <div class="tpl-head">
        <strong>{t('tpl.title')}</strong>
        <span class="muted small">{channel.name}</span>
      </div>
      {approved.length > 5 && (
        <div class="menu-search">
          <input type="search" placeholder={t('tpl.search')} aria-label={t('tpl.search')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </div>
      )}
      {error && <div class="form-error">{error}</div>}
      {!list && !error && (
        <div class="center small-pad">
          <Spinner />
        </div>
      )}
      {list && !approved.length && (
        <div class="tpl-empty muted">
          <p>{t('tpl.none')}</p>
          {canManageSettings() && (
            <button type="button" class="link-btn" onClick={() => navigate({ name: 'settings', tab: 'channels' })}>
              {t('tpl.manage')}
            </button>
          )}
        </div>
      )}
      <div class="tpl-list" role="group" aria-label={t('tpl.title')}>
        {shown.map((x) => (
          <button type="button" key={x.id} class="tpl-item" onClick={() => setChosen(x)} data-testid="template-option" data-name={x.name}>
            <span class="tpl-item-head">
              <code>{x.name}</code>
              <span class="tpl-lang">{x.language}</span>
              {x.category && <span class="muted small">{t(('tpl.cat.' + x.category) as 'tpl.cat.utility') || x.category}</span>}
            </span>
            <span class="tpl-item-body">
              <Preview body={x.body} params={[]} />
            </span>
          </button>
        ))}
      </div>
      {others > 0 && <div class="tpl-foot muted small">{tn('tpl.othersHidden', others)}</div>}
    </div>
  );
}

/** The body with the values filled so far; the rest stay as visible {{n}} chips. */
function Preview({ body, params }: { body: string; params: string[] }) {
  return (
    <>
      {templatePieces(body).map((p, i) =>
        typeof p === 'string' ? (
          p
        ) : params[p - 1]?.trim() ? (
          <mark key={i} class="tpl-val">
            {params[p - 1]}
          </mark>
        ) : (
          <span key={i} class="tpl-ph">{`{{${p}}}`}</span>
        ),
      )}
    </>
  );
}

const PROBLEMS = { empty: 'tpl.paramEmpty', newline: 'tpl.paramNewline', spaces: 'tpl.paramSpaces', long: 'tpl.paramLong' } as const;

function TemplateFill({ convId, tpl, onBack, onDone }: { convId: Id; tpl: Template; onBack: () => void; onDone: () => void }) {
  const n = paramCount(tpl);
  const [params, setParams] = useState<string[]>(() => Array.from({ length: n }, () => ''));
  const [touched, setTouched] = useState<boolean[]>(() => Array.from({ length: n }, () => false));
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const problems = params.map(paramProblem);
  const text = renderTemplate(tpl.body, params);
  const length = [...text].length;
  const ok = problems.every((p) => p === null) && length <= TEMPLATE_MAX;
  const submit = () => {
    if (!ok) {
      setTouched(params.map(() => true));
      return;
    }
    send(convId, { text, note: false, replyTo: null, attachments: [], template: { id: tpl.id, params } });
    onDone();
  };
  return (
    <form
      class="tpl-panel tpl-fill"
      data-testid="template-fill"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div class="tpl-head">
        <button type="button" class="icon-btn sm" onClick={onBack} aria-label={t('tpl.back')} title={t('tpl.back')}>
          <Icon name="chevronLeft" size={16} />
        </button>
        <code>{tpl.name}</code>
        <span class="tpl-lang">{tpl.language}</span>
      </div>
      <div class="tpl-preview" data-testid="template-preview" aria-live="polite">
        <Preview body={tpl.body} params={params} />
      </div>
      {n > 0 && (
        <div class="tpl-params">
          {params.map((v, i) => {
            const problem = touched[i] ? problems[i] : null;
            return (
              <label class="tpl-param" key={i}>
                <span class="tpl-param-n">{`{{${i + 1}}}`}</span>
                <input
                  ref={i === 0 ? first : undefined}
                  value={v}
                  name={`param-${i + 1}`}
                  aria-invalid={problem ? 'true' : undefined}
                  placeholder={t('tpl.paramPlaceholder', { n: i + 1 })}
                  onInput={(e) => setParams(params.map((x, j) => (j === i ? e.currentTarget.value : x)))}
                  onBlur={() => setTouched(touched.map((x, j) => (j === i ? true : x)))}
                />
                {problem && <span class="tpl-param-err">{t(PROBLEMS[problem])}</span>}
              </label>
            );
          })}
        </div>
      )}
      <div class="tpl-actions">
        <span class={'counter' + (length > TEMPLATE_MAX ? ' over' : '')}>
          {length} / {TEMPLATE_MAX}
        </span>
        <span class="grow" />
        <button type="submit" class="btn btn-primary btn-sm" disabled={!ok && touched.every(Boolean)} data-testid="template-send">
          <Icon name="send" size={14} /> {t('tpl.send')}
        </button>
      </div>
    </form>
  );
}
