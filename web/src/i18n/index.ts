// Interface language: en / es / ru. English is the source dictionary; the others are typed
// against it, so a missing translation is a type error (`npm run typecheck`).
import { en, type Dict, type Plural } from './en';
import { es } from './es';
import { ru } from './ru';

export type Lang = 'en' | 'es' | 'ru';
export const LANGS: { code: Lang; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'es', name: 'Español' },
  { code: 'ru', name: 'Русский' },
];

const dicts: Record<Lang, Dict> = { en: en as Dict, es, ru };

type Key = keyof Dict;
export type TextKey = { [K in Key]: Dict[K] extends string ? K : never }[Key];
export type PluralKey = { [K in Key]: Dict[K] extends string ? never : K }[Key];

let current: Lang = 'en';
let rules = new Intl.PluralRules('en');

export function setLang(l: Lang) {
  current = l;
  rules = new Intl.PluralRules(l);
  document.documentElement.lang = l;
}
export function getLang(): Lang {
  return current;
}

export function isLang(s: unknown): s is Lang {
  return s === 'en' || s === 'es' || s === 'ru';
}

/** The browser's preferred supported language, else English. */
export function browserLang(): Lang {
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = (l || '').slice(0, 2).toLowerCase();
    if (isLang(base)) return base;
  }
  return 'en';
}

function fill(s: string, params?: Record<string, string | number>): string {
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

export function t(key: TextKey, params?: Record<string, string | number>): string {
  const v = (dicts[current][key] ?? en[key]) as string;
  return fill(v, params);
}

/** Pluralised text: `{n}` is the count. */
export function tn(key: PluralKey, n: number, params?: Record<string, string | number>): string {
  const forms = (dicts[current][key] ?? en[key]) as Plural;
  const cat = rules.select(n) as keyof Plural;
  const s = forms[cat] ?? forms.other;
  return fill(s, { n, ...params });
}

// ------------------------------------------------------------------ dates

const fmtCache = new Map<string, Intl.DateTimeFormat>();
function fmt(opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = current + JSON.stringify(opts);
  let f = fmtCache.get(k);
  if (!f) fmtCache.set(k, (f = new Intl.DateTimeFormat(current, opts)));
  return f;
}

/** Short list time: today → 14:05, this week → Mon, older → 12 Mar (or 12.03.24). */
export function listTime(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return fmt({ hour: '2-digit', minute: '2-digit' }).format(d);
  const days = (now.getTime() - d.getTime()) / 86400000;
  if (days < 6) return fmt({ weekday: 'short' }).format(d);
  if (d.getFullYear() === now.getFullYear()) return fmt({ day: 'numeric', month: 'short' }).format(d);
  return fmt({ day: '2-digit', month: '2-digit', year: '2-digit' }).format(d);
}

export function clockTime(iso: string): string {
  return fmt({ hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

export function fullTime(iso: string): string {
  return fmt({ dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function dayLabel(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return t('time.today');
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (d.toDateString() === y.toDateString()) return t('time.yesterday');
  return fmt({ weekday: 'long', day: 'numeric', month: 'long', year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric' }).format(d);
}
