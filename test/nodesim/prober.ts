// Readiness probes run for real, as the kubelet runs them: an HTTP GET (or a TCP connect)
// to the pod's IP every periodSeconds, a fresh connection each time, success for
// 200..399 within timeoutSeconds; ready after successThreshold successes in a row,
// unready after failureThreshold failures in a row.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TimerHandle, TimerQueue } from './timers.ts';
import type { ContainerPort, Probe } from './wire.ts';

export interface ProberOptions {
  probe: Probe;
  podIP: string;
  /** The container's ports first, then the pod's: named probe ports resolve against them. */
  ports: ContainerPort[];
  timers: TimerQueue;
  /** Called when readiness changes (it starts unready). */
  onChange(ready: boolean): void;
  /** An unsupported probe (exec, grpc) or an unknown port name; readiness then follows running. */
  onUnsupported(why: string): void;
  kubeVersion?: string;
}

export interface Prober {
  stop(): void;
}

export function resolvePort(port: number | string, ports: ContainerPort[]): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return ports.find((p) => p.name === port)?.containerPort;
}

function httpProbe(url: URL, timeoutMs: number, userAgent: string): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        rejectUnauthorized: false,
        headers: { 'user-agent': userAgent, accept: '*/*', connection: 'close' },
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      },
    );
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('timeout', () => done(false));
    sock.once('error', () => done(false));
  });
}

export function startProber(o: ProberOptions): Prober {
  const p = o.probe;
  const periodMs = Math.max(1, p.periodSeconds ?? 10) * 1000;
  const timeoutMs = Math.max(1, p.timeoutSeconds ?? 1) * 1000;
  const successThreshold = Math.max(1, p.successThreshold ?? 1);
  const failureThreshold = Math.max(1, p.failureThreshold ?? 3);
  let check: (() => Promise<boolean>) | undefined;
  if (p.httpGet) {
    const port = resolvePort(p.httpGet.port, o.ports);
    if (port !== undefined) {
      const scheme = (p.httpGet.scheme ?? 'HTTP').toLowerCase();
      const path = p.httpGet.path ?? '/';
      const url = new URL(
        `${scheme}://${p.httpGet.host ?? o.podIP}:${port}${path.startsWith('/') ? '' : '/'}${path}`,
      );
      const ua = `kube-probe/${(o.kubeVersion ?? 'v1.36').replace(/^v/, '').split('.').slice(0, 2).join('.')}`;
      check = () => httpProbe(url, timeoutMs, ua);
    }
  } else if (p.tcpSocket) {
    const port = resolvePort(p.tcpSocket.port, o.ports);
    const host = p.tcpSocket.host ?? o.podIP;
    if (port !== undefined) check = () => tcpProbe(host, port, timeoutMs);
  }
  if (!check) {
    o.onUnsupported(
      p.httpGet || p.tcpSocket
        ? `probe port ${JSON.stringify((p.httpGet ?? p.tcpSocket)?.port)} names no container port`
        : 'only httpGet and tcpSocket readiness probes are simulated',
    );
    return { stop: () => undefined };
  }
  const run = check;
  let stopped = false;
  let timer: TimerHandle | undefined;
  let ready = false;
  let successes = 0;
  let failures = 0;
  const tick = (): void => {
    if (stopped) return;
    void run().then((ok) => {
      if (stopped) return;
      if (ok) {
        successes++;
        failures = 0;
        if (!ready && successes >= successThreshold) {
          ready = true;
          o.onChange(true);
        }
      } else {
        failures++;
        successes = 0;
        if (ready && failures >= failureThreshold) {
          ready = false;
          o.onChange(false);
        }
      }
      timer = o.timers.after(periodMs, tick);
    });
  };
  // The kubelet waits initialDelaySeconds (plus jitter) before the first probe; we skip the jitter.
  timer = o.timers.after((p.initialDelaySeconds ?? 0) * 1000, tick);
  return {
    stop: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
