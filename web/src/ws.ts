// The one WebSocket: reconnects with backoff and resumes with `since` = the last seq seen,
// so nothing is missed across drops.
import type { WsFrame } from './types';

export class Realtime {
  private ws: WebSocket | null = null;
  private lastSeq: number | null = null;
  private stopped = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private onFrame: (f: WsFrame) => void,
    private onStatus: (online: boolean) => void,
  ) {}

  start() {
    this.stopped = false;
    this.connect();
    addEventListener('online', this.kick);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    removeEventListener('online', this.kick);
    this.ws?.close(1000);
    this.ws = null;
  }

  send(frame: unknown) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private kick = () => {
    if (!this.ws || this.ws.readyState === WebSocket.CLOSED) {
      clearTimeout(this.timer);
      this.connect();
    }
  };

  private connect() {
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.lastSeq !== null ? `?since=${this.lastSeq}` : '';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/ws${since}`);
    this.ws = ws;
    ws.onmessage = (ev) => {
      let f: WsFrame;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (f.type === 'ready') {
        this.attempt = 0;
        if (typeof f.data?.seq === 'number' && (this.lastSeq === null || f.data.seq > this.lastSeq)) this.lastSeq = f.data.seq;
        this.onStatus(true);
      } else if (typeof f.seq === 'number' && (this.lastSeq === null || f.seq > this.lastSeq)) {
        this.lastSeq = f.seq;
      }
      this.onFrame(f);
    };
    ws.onopen = () => {
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 25000);
    };
    ws.onclose = (ev) => {
      clearInterval(this.pingTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      this.onStatus(false);
      if (this.stopped) return;
      if (ev.code === 1008) {
        // The user was deactivated or removed: the next API call answers 401.
        fetch('/api/v1/auth/me', { credentials: 'same-origin' }).then((r) => r.status === 401 && location.reload());
      }
      const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt++;
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }
}
