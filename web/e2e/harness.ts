// End-to-end harness: a real `charla serve` on a temp data dir, a fake integrator that receives
// the API channel's outbound webhooks, signed inbound pushes, and Debian's Chromium.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');

export const ADMIN = { email: 'admin@example.com', password: 'admin-pass-1234', name: 'Ada Admin' };

/** The charla binary: $CHARLA_BIN, or built now with cargo (fast after `cargo test`). */
export function charlaBinary(): string {
  if (process.env.CHARLA_BIN) return process.env.CHARLA_BIN;
  const out = execFileSync('cargo', ['build', '-p', 'charla', '--message-format=json-render-diagnostics'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  let exe: string | null = null;
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.target?.name === 'charla' && msg.executable) exe = msg.executable;
  }
  if (!exe || !existsSync(exe)) throw new Error('cargo did not produce the charla binary');
  return exe;
}

export interface Channel {
  id: number;
  secret: string;
}

export class Charla {
  proc!: ChildProcess;
  base = '';
  dataDir = '';
  adminToken = '';
  integrator!: Server;
  /** Outbound messages the API channel POSTed to the integrator. */
  delivered: any[] = [];
  private stderr = '';

  async start(bin = charlaBinary()) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'charla-e2e-'));
    execFileSync(bin, ['admin', 'create', '--email', ADMIN.email, '--password', ADMIN.password, '--name', ADMIN.name, '--data', this.dataDir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', this.dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    });
    this.proc.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-20000)));
    this.base = await new Promise<string>((res, rej) => {
      let buf = '';
      const timer = setTimeout(() => rej(new Error('charla did not start:\n' + this.stderr)), 60000);
      this.proc.stdout!.on('data', (d) => {
        buf += d;
        const m = buf.match(/charla listening on (http:\/\/[\d.:]+)/);
        if (m) {
          clearTimeout(timer);
          res(m[1]);
        }
      });
      this.proc.on('exit', (code) => rej(new Error(`charla exited (${code}):\n${this.stderr}`)));
    });
    this.adminToken = (await this.login(ADMIN.email, ADMIN.password)).token;
    this.integrator = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        try {
          this.delivered.push(JSON.parse(body));
        } catch {
          /* ignore */
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: 'crm-' + this.delivered.length }));
      });
    });
    await new Promise<void>((r) => this.integrator.listen(0, '127.0.0.1', r));
  }

  get integratorUrl(): string {
    const a = this.integrator.address();
    return typeof a === 'object' && a ? `http://127.0.0.1:${a.port}/charla` : '';
  }

  async stop() {
    this.integrator?.close();
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async api(method: string, path: string, body?: unknown, token = this.adminToken): Promise<any> {
    const r = await fetch(this.base + '/api/v1' + path, {
      method,
      headers: { Authorization: 'Bearer ' + token, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  async login(email: string, password: string): Promise<{ token: string; user: any }> {
    const r = await fetch(this.base + '/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (!r.ok) throw new Error('login failed: ' + (await r.text()));
    return r.json();
  }

  async createAgent(name: string, email: string, password: string, flags: string[] = []) {
    return this.api('POST', '/users', { email, name, password, role: 'agent', flags });
  }

  async createApiChannel(name: string, memberIds: number[]): Promise<Channel> {
    const ch = await this.api('POST', '/channels', { kind: 'api', name, webhook_url: this.integratorUrl });
    await this.api('PUT', `/channels/${ch.id}/members`, { user_ids: memberIds });
    return { id: ch.id, secret: ch.secret };
  }

  private async signed(path: string, payload: unknown, secret: string): Promise<any> {
    const body = JSON.stringify(payload);
    const sig = createHmac('sha256', secret).update(body).digest('hex');
    const r = await fetch(this.base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Charla-Signature': 'sha256=' + sig },
      body,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`POST ${path} → ${r.status} ${text}`);
    return JSON.parse(text);
  }

  private seq = 0;
  /** A customer writes through the API channel. */
  async inbound(ch: Channel, contact: { external_id: string; name: string; phone?: string; email?: string }, text: string) {
    return this.signed(`/hooks/api/${ch.id}`, { message_id: `e2e-${Date.now()}-${++this.seq}`, contact, text }, ch.secret) as Promise<{
      message_id: number;
      conversation_id: number;
    }>;
  }

  /** The integrator confirms delivery / reading of an outbound message. */
  async status(ch: Channel, messageId: number, status: 'delivered' | 'read' | 'failed', error?: string) {
    return this.signed(`/hooks/api/${ch.id}/status`, { message_id: messageId, status, error }, ch.secret);
  }
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function newContext(browser: Browser, locale = 'en-US'): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1366, height: 860 }, locale });
}

/** Opens the app and signs in; resolves once the inbox list is shown. */
export async function signIn(ctx: BrowserContext, base: string, email: string, password: string): Promise<Page> {
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  const live = realtimeReady(page);
  live.catch(() => {}); // awaited below; a sign-in that fails first must not leave it unhandled
  await page.goto(base + '/');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=section-all]');
  await live;
  return page;
}

/** Resolves once the page's operator socket has said `ready`. Its first connection has no
 * `since` to resume from, so what happens before then reaches the page only through the lists
 * it loads (a message's row, but not its alert): a test that acts right after signing in
 * waits for this. Call it before the page opens the socket. */
export function realtimeReady(page: Page, ms = 15000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the operator socket was not ready within ${ms} ms`)), ms);
    page.on('websocket', (ws) => {
      if (!new URL(ws.url()).pathname.endsWith('/api/v1/ws')) return;
      ws.on('framereceived', (f) => {
        if (typeof f.payload === 'string' && f.payload.includes('"type":"ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });
}

export const row = (page: Page, name: string) => page.locator('[data-testid=conv-row]', { hasText: name });
