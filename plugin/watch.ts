// `status -w`: a live view, redrawn on every change, fed by informers: for a HotDeployment,
// the object by name and its pods by label; for a HotRelease, the object by name. It ends
// on Ctrl-C, at --timeout, or, with --until-complete, at the outcome.
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import type { HotDeployment } from '../controller/api/types.ts';
import { CONDITIONS } from '../controller/constants.ts';
import { compactPod } from '../controller/compactPod.ts';
import { Informer, type InformerHealth } from '../controller/kube/informer.ts';
import type { KubeObject } from '../controller/kube/types.ts';
import { hdPath, podPath } from '../controller/writer.ts';
import type { HotRelease } from '../hub/api/types.ts';
import { getHd, getHr, hrPath, podSelector, type Cluster } from './client.ts';
import { EXIT, type ExitCode } from './constants.ts';
import { renderRelease } from './releaseRender.ts';
import { describeRelease, summarizeRelease } from './releaseSummary.ts';
import { renderStatus } from './render.ts';
import { fail, failureOf, type Io, type StatusInvocation } from './run.ts';
import { conditionOf, describeState, summarize } from './summary.ts';
import { targetString } from './target.ts';

export interface WatchIo extends Io {
  /** stdout is a terminal: redraw in place (else print each new state below the last). */
  tty: boolean;
  /** Resolves on Ctrl-C. */
  interrupted: Promise<void>;
}

/** One drawing: the summary (-o json), its lines (text), and the outcome when there is one. */
interface Snapshot {
  json: unknown;
  lines: string[];
  /** Set once the watched object reached an outcome --until-complete stops at. */
  end?: { code: ExitCode; message?: string };
}

/** What the watch loop uses of an informer, whatever it caches. */
interface Feed {
  addHandlers(h: { onAdd(): void; onUpdate(): void; onDelete(): void }): void;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(timeoutMs: number): Promise<boolean>;
  health(): InformerHealth;
}

/** What a watch of one kind needs: its informers, a drawing of the cache, its state in words. */
interface WatchView {
  informers: Feed[];
  /** The current drawing; undefined when the object is gone. */
  snapshot(nowMs: number): Snapshot | undefined;
  /** Where the object stands, completing "hotdeployment/web is ..." (for a timeout). */
  describe(): string;
}

// ANSI: cursor home, clear screen.
const CLEAR = '\x1b[H\x1b[2J';
/** Changes closer together than this are drawn once, in ms. */
const COALESCE_MS = 50;
/** A terminal view is redrawn this often anyway (ages, the end of a timed pause), in ms. */
const TICK_MS = 1000;
/** How long the first list of each informer may take, in ms. */
const SYNC_TIMEOUT_MS = 30_000;

function slim<T extends KubeObject>(obj: T): T {
  const { managedFields: _managed, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata };
}

const informerTiming = {
  logger: pino({ level: 'silent' }),
  resyncMs: 0,
  unhealthyAfterMs: 5_000,
  backoff: { initialMs: 200, maxMs: 5_000 },
};

function hdView(c: Cluster, name: string, first: HotDeployment): WatchView {
  const hds = new Informer<HotDeployment & KubeObject>({
    client: c.client,
    path: hdPath(c.namespace),
    fieldSelector: `metadata.name=${name}`,
    name: 'hotdeployment',
    transform: slim,
    ...informerTiming,
  });
  const pods = new Informer<V1Pod & KubeObject>({
    client: c.client,
    path: podPath(c.namespace),
    labelSelector: podSelector(name),
    name: 'pods',
    transform: (p) => compactPod(p) as V1Pod & KubeObject,
    ...informerTiming,
  });
  const get = () => hds.store.get(`${c.namespace}/${name}`);
  return {
    informers: [hds, pods],
    snapshot(nowMs) {
      const hd = get();
      if (!hd) return undefined;
      const s = summarize(hd, pods.store.list());
      const snap: Snapshot = { json: s, lines: renderStatus(s, nowMs) };
      if (s.outcome === 'complete') snap.end = { code: EXIT.ok };
      if (s.outcome === 'degraded') {
        const d = conditionOf(hd, CONDITIONS.degraded);
        snap.end = {
          code: EXIT.state,
          message: `hotdeployment/${name} is Degraded (${d?.reason ?? ''}): ${d?.message ?? ''}`,
        };
      }
      return snap;
    },
    describe: () => describeState(get() ?? first),
  };
}

function hrView(c: Cluster, name: string, first: HotRelease): WatchView {
  const hrs = new Informer<HotRelease & KubeObject>({
    client: c.client,
    path: hrPath(c.namespace),
    fieldSelector: `metadata.name=${name}`,
    name: 'hotrelease',
    transform: slim,
    ...informerTiming,
  });
  const get = () => hrs.store.get(`${c.namespace}/${name}`);
  return {
    informers: [hrs],
    snapshot(nowMs) {
      const hr = get();
      if (!hr) return undefined;
      const s = summarizeRelease(hr);
      const snap: Snapshot = { json: s, lines: renderRelease(s, nowMs) };
      if (s.outcome === 'succeeded') snap.end = { code: EXIT.ok };
      if (s.outcome === 'failed')
        snap.end = { code: EXIT.state, message: `hotrelease/${name} is ${s.state}` };
      return snap;
    },
    describe: () => describeRelease(get() ?? first),
  };
}

export async function runWatch(c: Cluster, inv: StatusInvocation, io: WatchIo): Promise<ExitCode> {
  const name = inv.target.name;
  const what = targetString(inv.target);
  let view: WatchView;
  if (inv.target.kind === 'HotRelease') {
    const first = await getHr(c, name);
    if (!first.ok) return fail(io, failureOf(c, inv, first));
    view = hrView(c, name, first.body);
  } else {
    const first = await getHd(c, name);
    if (!first.ok) return fail(io, failureOf(c, inv, first));
    view = hdView(c, name, first.body);
  }

  let resolveDone: (code: ExitCode) => void = () => undefined;
  const done = new Promise<ExitCode>((resolve) => (resolveDone = resolve));
  let ended = false;
  /** Ends the watch once: the first outcome wins (a late redraw or timer says nothing more). */
  const finish = (code: ExitCode, message?: string): void => {
    if (ended) return;
    ended = true;
    if (message) io.err(`error: ${message}`);
    resolveDone(code);
  };
  let last = '';
  let pending: NodeJS.Timeout | undefined;

  const draw = (): void => {
    pending = undefined;
    if (ended || !view.informers.every((i) => i.hasSynced())) return;
    const snap = view.snapshot(io.now());
    if (!snap) {
      finish(EXIT.notFound, `${what} was deleted`);
      return;
    }
    if (inv.output === 'json') {
      const line = JSON.stringify(snap.json);
      if (line !== last) io.out(line);
      last = line;
    } else {
      const lines = snap.lines;
      const health = view.informers.map((i) => i.health()).find((h) => !h.connected && h.lastError);
      if (health) lines.push(`(reconnecting to the API server: ${health.lastError ?? ''})`);
      const text = lines.join('\n');
      if (io.tty) {
        io.out(`${CLEAR}${text}\n\n(watching; Ctrl-C to stop)`);
      } else if (text !== last) {
        // A log of states: each one after a blank line.
        io.out(last === '' ? text : `\n${text}`);
      }
      last = text;
    }
    if (inv.untilComplete && snap.end) finish(snap.end.code, snap.end.message);
  };
  const schedule = (): void => {
    pending ??= setTimeout(draw, COALESCE_MS);
  };
  for (const inf of view.informers) {
    inf.addHandlers({ onAdd: schedule, onUpdate: schedule, onDelete: schedule });
    inf.start();
  }

  const timers: NodeJS.Timeout[] = [];
  if (io.tty && inv.output === 'text') timers.push(setInterval(schedule, TICK_MS));
  if (inv.timeoutMs > 0) {
    timers.push(
      setTimeout(() => {
        if (!inv.untilComplete) return finish(EXIT.ok);
        finish(EXIT.timeout, `timed out: ${what} is ${view.describe()}`);
      }, inv.timeoutMs),
    );
  }
  void io.interrupted.then(() => finish(EXIT.interrupted));
  void Promise.all(view.informers.map((i) => i.waitForSync(SYNC_TIMEOUT_MS))).then((synced) => {
    if (synced.every(Boolean)) return schedule();
    const err = view.informers.map((i) => i.health().lastError).find(Boolean) ?? 'no answer';
    finish(EXIT.api, `could not list and watch ${what}: ${err}`);
  });

  const code = await done;
  for (const t of timers) clearTimeout(t);
  clearTimeout(pending);
  await Promise.all(view.informers.map((i) => i.stop()));
  return code;
}
