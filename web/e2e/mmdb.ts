// A tiny MaxMind DB writer for tests: an IPv4 database whose networks map to
// `{country: {iso_code}}`, enough for Charla's country rules (format: MaxMind DB 2.0).
import { writeFileSync } from 'node:fs';

type Rec = { node: number } | { data: number } | null;

function ctrl(type: number, size: number): number[] {
  // size < 29 only (enough here)
  return type <= 7 ? [(type << 5) | size] : [size, type - 7];
}
function str(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [...ctrl(2, b.length), ...b];
}
function uint(type: number, v: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  while (out.length && out[0] === 0) out.shift();
  return [...ctrl(type, out.length), ...out];
}
function map(entries: [string, number[]][]): number[] {
  return [...ctrl(7, entries.length), ...entries.flatMap(([k, v]) => [...str(k), ...v])];
}

/** Writes a database mapping each `a.b.c.d/len` to its country code. */
export function writeCountryDb(path: string, networks: Record<string, string>) {
  const data: number[] = [];
  const offsets = new Map<string, number>();
  for (const cc of new Set(Object.values(networks))) {
    offsets.set(cc, data.length);
    data.push(...map([['country', map([['iso_code', str(cc)]])]]));
  }
  // The search tree, one bit per level.
  const nodes: [Rec, Rec][] = [[null, null]];
  for (const [net, cc] of Object.entries(networks)) {
    const [ip, lenS] = net.split('/');
    const len = Number(lenS);
    const n = ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
    let node = 0;
    for (let i = 0; i < len; i++) {
      const bit = Math.floor(n / 2 ** (31 - i)) & 1;
      if (i === len - 1) {
        nodes[node][bit] = { data: offsets.get(cc)! };
      } else {
        const r = nodes[node][bit];
        if (r && 'node' in r) node = r.node;
        else {
          nodes.push([null, null]);
          nodes[node][bit] = { node: nodes.length - 1 };
          node = nodes.length - 1;
        }
      }
    }
  }
  const count = nodes.length;
  const value = (r: Rec) => (r === null ? count : 'node' in r ? r.node : count + 16 + r.data);
  const tree: number[] = [];
  for (const [l, r] of nodes) for (const v of [value(l), value(r)]) tree.push((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  const meta = map([
    ['binary_format_major_version', uint(5, 2, 2)],
    ['binary_format_minor_version', uint(5, 0, 2)],
    ['build_epoch', uint(9, Math.floor(Date.now() / 1000), 8)],
    ['database_type', str('Charla-Test-Country')],
    ['description', map([['en', str('test')]])],
    ['ip_version', uint(5, 4, 2)],
    ['languages', [...ctrl(11, 1), ...str('en')]],
    ['node_count', uint(6, count, 4)],
    ['record_size', uint(5, 24, 2)],
  ]);
  const marker = [0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')];
  writeFileSync(path, Buffer.from([...tree, ...new Array(16).fill(0), ...data, ...marker, ...meta]));
}
