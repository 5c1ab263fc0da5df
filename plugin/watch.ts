// `status -w`: a live view of a HotDeployment and its pods, redrawn on every change, fed by
// two informers (the HotDeployment by name, its pods by label). It ends on Ctrl-C, at
// --timeout, or, with --until-complete, when the rollout completes or is Degraded.
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import type { HotDeployment } from '../controller/api/types.ts';
import { CONDITIONS } from '../controller/constants.ts';
import { compactPod } from '../controller/compactPod.ts';
import { Informer } from '../controller/kube/informer.ts';
import type { KubeObject } from '../controller/kube/types.ts';
import { hdPath, podPath } from '../controller/writer.ts';
import type { Invocation } from './args.ts';
import { getHd, podSelector, type Cluster } from './client.ts';
import { EXIT, type ExitCode } from './constants.ts';
import { renderStatus } from './render.ts';
import { fail, failureOf, type Io } from './run.ts';
import { conditionOf, describeState, summarize } from './summary.ts';

export interface WatchIo extends Io {
  /** stdout is a terminal: redraw in place (else print each new state below the last). */
  tty: boolean;
  /** Resolves on Ctrl-C. */
  interrupted: Promise<void>;
}

type StatusInvocation = Extract<Invocation, { command: 'status' }>;

// ANSI: cursor home, clear screen.
const CLEAR = '\x1b[H\x1b[2J';
/** Changes closer together than this are drawn once, in ms. */
const COALESCE_MS = 50;
/** A terminal view is redrawn this often anyway (the ages of upgrades in flight), in ms. */
const TICK_MS = 1000;
/** How long the first list of each informer may take, in ms. */
const SYNC_TIMEOUT_MS = 30_000;

function slimHd(hd: HotDeployment & KubeObject): HotDeployment & KubeObject {
  const { managedFields: _managed, ...metadata } = hd.metadata;
  return { ...hd, metadata };
}

export async function runWatch(c: Cluster, inv: StatusInvocation, io: WatchIo): Promise<ExitCode> {
  const name = inv.target.name;
  const first = await getHd(c, name);
  if (!first.ok) return fail(io, failureOf(c, inv, first));

  const logger = pino({ level: 'silent' });
  const timing = { unhealthyAfterMs: 5_000, backoff: { initialMs: 200, maxMs: 5_000 } };
  const hds = new Informer<HotDeployment & KubeObject>({
    client: c.client,
    path: hdPath(c.namespace),
    fieldSelector: `metadata.name=${name}`,
    logger,
    name: 'hotdeployment',
    transform: slimHd,
    resyncMs: 0,
    ...timing,
  });
  const pods = new Informer<V1Pod & KubeObject>({
    client: c.client,
    path: podPath(c.namespace),
    labelSelector: podSelector(name),
    logger,
    name: 'pods',
    transform: (p) => compactPod(p) as V1Pod & KubeObject,
    resyncMs: 0,
    ...timing,
  });

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
    if (ended || !hds.hasSynced() || !pods.hasSynced()) return;
    const hd = hds.store.get(`${c.namespace}/${name}`);
    if (!hd) {
      finish(EXIT.notFound, `hotdeployment/${name} was deleted`);
      return;
    }
    const s = summarize(hd, pods.store.list());
    if (inv.output === 'json') {
      const line = JSON.stringify(s);
      if (line !== last) io.out(line);
      last = line;
    } else {
      const lines = renderStatus(s, io.now());
      const health = [hds.health(), pods.health()].find((h) => !h.connected && h.lastError);
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
    if (inv.untilComplete) {
      if (s.outcome === 'complete') finish(EXIT.ok);
      if (s.outcome === 'degraded') {
        const d = conditionOf(hd, CONDITIONS.degraded);
        finish(EXIT.state, `hotdeployment/${name} is Degraded (${d?.reason ?? ''}): ${d?.message ?? ''}`);
      }
    }
  };
  const schedule = (): void => {
    pending ??= setTimeout(draw, COALESCE_MS);
  };
  for (const inf of [hds, pods] as Informer<KubeObject>[]) {
    inf.addHandlers({ onAdd: schedule, onUpdate: schedule, onDelete: schedule });
    inf.start();
  }

  const timers: NodeJS.Timeout[] = [];
  if (io.tty && inv.output === 'text') timers.push(setInterval(schedule, TICK_MS));
  if (inv.timeoutMs > 0) {
    timers.push(
      setTimeout(() => {
        if (!inv.untilComplete) return finish(EXIT.ok);
        const hd = hds.store.get(`${c.namespace}/${name}`) ?? first.body;
        finish(EXIT.timeout, `timed out: hotdeployment/${name} is ${describeState(hd)}`);
      }, inv.timeoutMs),
    );
  }
  void io.interrupted.then(() => finish(EXIT.interrupted));
  void Promise.all([hds.waitForSync(SYNC_TIMEOUT_MS), pods.waitForSync(SYNC_TIMEOUT_MS)]).then(([a, b]) => {
    if (a && b) return schedule();
    const err = hds.health().lastError ?? pods.health().lastError ?? 'no answer';
    finish(EXIT.api, `could not list and watch hotdeployment/${name} and its pods: ${err}`);
  });

  const code = await done;
  for (const t of timers) clearTimeout(t);
  clearTimeout(pending);
  await Promise.all([hds.stop(), pods.stop()]);
  return code;
}
