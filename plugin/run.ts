// Runs one parsed command against a cluster: read, decide (decide.ts, releaseDecide.ts),
// write, print. A write whose guard failed because the object changed meanwhile is decided
// again on a fresh read, as controller-runtime retries a conflict.
import type { HotDeployment } from '../controller/api/types.ts';
import type { KubeError, KubeResult } from '../controller/kube/types.ts';
import type { HotRelease } from '../hub/api/types.ts';
import type { Invocation } from './args.ts';
import { getHd, getHr, listPods, patchHd, patchHr, type Cluster } from './client.ts';
import { EXIT, type ExitCode } from './constants.ts';
import {
  decideAbort,
  decideApprove,
  decidePause,
  decideRollback,
  decideUpgrade,
  type Decision,
  type Patch,
} from './decide.ts';
import { apiFailure, type Failure } from './errors.ts';
import {
  decideReleaseAbort,
  decideReleaseApprove,
  decideReleasePause,
  decideReleaseRollback,
} from './releaseDecide.ts';
import { renderRelease } from './releaseRender.ts';
import { summarizeRelease } from './releaseSummary.ts';
import { renderStatus } from './render.ts';
import { summarize } from './summary.ts';
import { KIND_NAMES, targetString, type Target } from './target.ts';

/** Where a command prints: `out` for results (stdout), `err` for errors and notes (stderr). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  now(): number;
}

export type WriteInvocation = Extract<
  Invocation,
  { command: 'upgrade' | 'approve' | 'pause' | 'resume' | 'abort' | 'rollback' }
>;
export type StatusInvocation = Extract<Invocation, { command: 'status' }>;

/** Reads and writes that fail this often because the object keeps changing give up. */
const MAX_ATTEMPTS = 5;

export function fail(io: Io, f: Failure): ExitCode {
  io.err(`error: ${f.message}`);
  return f.code;
}

export function failureOf(c: Cluster, inv: { target: Target }, err: KubeError): Failure {
  const release = inv.target.kind === 'HotRelease';
  return apiFailure(err, {
    what: targetString(inv.target),
    name: inv.target.name,
    namespace: c.namespace,
    server: c.server,
    context: c.context,
    plural: KIND_NAMES[inv.target.kind].plural,
    ...(release ? { show: `kubectl hotupgrade status hr/${inv.target.name} -n ${c.namespace}` } : {}),
  });
}

/** The RFC 3339 time of `io.now()`, to the second. */
const nowIso = (io: Io): string => new Date(io.now()).toISOString().replace(/\.\d+Z$/, 'Z');

/** What a write command reads, decides and writes, for either kind. */
interface WriteOps<T> {
  get(): Promise<KubeResult<T>>;
  decide(obj: T): Decision;
  patch(p: Patch, dryRun: boolean): Promise<KubeResult<T>>;
}

function hdOps(c: Cluster, inv: WriteInvocation, io: Io): WriteOps<HotDeployment> {
  const name = inv.target.name;
  return {
    get: () => getHd(c, name),
    patch: (p, dryRun) => patchHd(c, name, p, dryRun),
    decide: (hd) => {
      switch (inv.command) {
        case 'upgrade':
          return decideUpgrade(hd, inv.image, inv.container, nowIso(io));
        case 'approve':
          return decideApprove(hd, inv.batch);
        case 'pause':
          return decidePause(hd, true);
        case 'resume':
          return decidePause(hd, false);
        case 'abort':
          return decideAbort(hd, nowIso(io));
        case 'rollback':
          return decideRollback(hd, inv.to, nowIso(io));
      }
    },
  };
}

function hrOps(c: Cluster, inv: WriteInvocation): WriteOps<HotRelease> {
  const name = inv.target.name;
  return {
    get: () => getHr(c, name),
    patch: (p, dryRun) => patchHr(c, name, p, dryRun),
    decide: (hr) => {
      switch (inv.command) {
        case 'approve':
          return decideReleaseApprove(hr, inv.step);
        case 'pause':
          return decideReleasePause(hr, true);
        case 'resume':
          return decideReleasePause(hr, false);
        case 'abort':
          return decideReleaseAbort(hr);
        case 'rollback':
          return decideReleaseRollback(hr);
        case 'upgrade':
          // args.ts takes hd/NAME only for upgrade: a HotRelease's image is immutable.
          throw new Error('upgrade of a HotRelease');
      }
    },
  };
}

async function writeLoop<T extends { metadata: { resourceVersion?: string | undefined } }>(
  c: Cluster,
  inv: WriteInvocation,
  io: Io,
  ops: WriteOps<T>,
): Promise<ExitCode> {
  let rejected: { rv: string | undefined; err: KubeError } | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const r = await ops.get();
    if (!r.ok) return fail(io, failureOf(c, inv, r));
    const obj = r.body;
    // A rejected patch on an object that has not changed since is not a race: report it.
    if (rejected && rejected.rv === obj.metadata.resourceVersion)
      return fail(io, failureOf(c, inv, rejected.err));
    const d = ops.decide(obj);
    if (d.kind === 'refuse') return fail(io, { code: d.code, message: d.message });
    if (d.kind === 'noop') {
      io.out(d.message);
      return EXIT.ok;
    }
    const w = await ops.patch(d.patch, inv.dryRun);
    if (w.ok) {
      io.out(
        inv.dryRun ? `${d.message} (dry run: the API server accepted it; nothing was saved)` : d.message,
      );
      for (const n of d.notes) io.err(`note: ${n}`);
      return EXIT.ok;
    }
    // 409: a resourceVersion precondition failed; 422: maybe a `test` op did (the object
    // changed meanwhile), maybe the change is invalid: the next read tells.
    if (w.status !== 409 && w.status !== 422) return fail(io, failureOf(c, inv, w));
    rejected = { rv: obj.metadata.resourceVersion, err: w };
  }
  return fail(
    io,
    failureOf(c, inv, rejected?.err ?? { ok: false, status: 409, reason: 'Conflict', message: '' }),
  );
}

export function runWrite(c: Cluster, inv: WriteInvocation, io: Io): Promise<ExitCode> {
  return inv.target.kind === 'HotRelease'
    ? writeLoop(c, inv, io, hrOps(c, inv))
    : writeLoop(c, inv, io, hdOps(c, inv, io));
}

/** `status` without -w: one read of the HotDeployment and its pods, or of the HotRelease. */
export async function runStatus(c: Cluster, inv: StatusInvocation, io: Io): Promise<ExitCode> {
  if (inv.target.kind === 'HotRelease') {
    const r = await getHr(c, inv.target.name);
    if (!r.ok) return fail(io, failureOf(c, inv, r));
    const s = summarizeRelease(r.body);
    io.out(inv.output === 'json' ? JSON.stringify(s, null, 2) : renderRelease(s, io.now()).join('\n'));
    return EXIT.ok;
  }
  const r = await getHd(c, inv.target.name);
  if (!r.ok) return fail(io, failureOf(c, inv, r));
  const pods = await listPods(c, inv.target.name);
  if (!pods.ok) return fail(io, failureOf(c, inv, pods));
  const s = summarize(r.body, pods.body);
  io.out(inv.output === 'json' ? JSON.stringify(s, null, 2) : renderStatus(s, io.now()).join('\n'));
  return EXIT.ok;
}
