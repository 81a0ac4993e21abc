// Message templates of messenger channels (docs/messengers.md): a cache per channel, and the
// client side of the server's rules (charla-core/src/templates.rs) so the picker can say what
// is wrong before sending.
import { get } from './api';
import type { Id, Template } from './types';

const cache = new Map<Id, Template[]>();
const inflight = new Map<Id, Promise<Template[]>>();

export const cachedTemplates = (channelId: Id): Template[] | undefined => cache.get(channelId);

/** The channel's templates (every status), fetched again each call; the cache answers at once. */
export function loadTemplates(channelId: Id): Promise<Template[]> {
  let p = inflight.get(channelId);
  if (!p) {
    p = get<Template[]>(`/channels/${channelId}/templates`)
      .then((list) => {
        cache.set(channelId, list);
        return list;
      })
      .finally(() => inflight.delete(channelId));
    inflight.set(channelId, p);
  }
  return p;
}

export function setCachedTemplates(channelId: Id, list: Template[]) {
  cache.set(channelId, list);
}

/** Text and parameter pieces of a body: `{{1}}` → 1. */
export function templatePieces(body: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\{\{\s*(\d+)\s*\}\}/g;
  let last = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m.index > last) out.push(body.slice(last, m.index));
    out.push(Number(m[1]));
    last = m.index + m[0].length;
  }
  if (last < body.length) out.push(body.slice(last));
  return out;
}

/** The highest placeholder number (what `param_count` is for a well-formed body). */
export function paramCount(t: Template): number {
  if (t.param_count !== null) return t.param_count;
  return Math.max(0, ...templatePieces(t.body).filter((p): p is number => typeof p === 'number'));
}

export function renderTemplate(body: string, params: string[]): string {
  return templatePieces(body)
    .map((p) => (typeof p === 'number' ? (params[p - 1] ?? '') : p))
    .join('');
}

/** Why a parameter value would be refused (WhatsApp's rules), or null. */
export function paramProblem(value: string): 'empty' | 'newline' | 'spaces' | 'long' | null {
  if (!value.trim()) return 'empty';
  if (/[\n\r\t]/.test(value)) return 'newline';
  if (value.includes('     ')) return 'spaces';
  if ([...value].length > 1024) return 'long';
  return null;
}

/** The longest filled template the server accepts. */
export const TEMPLATE_MAX = 1024;
