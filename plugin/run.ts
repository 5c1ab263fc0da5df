// Runs one parsed command against a cluster: read, decide (decide.ts), write, print. A write
// whose guard failed because the object changed meanwhile is decided again on a fresh read,
// as controller-runtime retries a conflict.
import type { HotDeployment } from '../controller/api/types.ts';
import type { KubeError } from '../controller/kube/types.ts';
import type { Invocation } from './args.ts';
import { getHd, listPods, patchHd, type Cluster } from './client.ts';
import { EXIT, type ExitCode } from './constants.ts';
import {
  decideAbort,
  decideApprove,
  decidePause,
  decideRollback,
  decideUpgrade,
  type Decision,
} from './decide.ts';
import { apiFailure, type Failure } from './errors.ts';
import { renderStatus } from './render.ts';
import { summarize } from './summary.ts';
import { targetString } from './target.ts';

/** Where a command prints: `out` for results (stdout), `err` for errors and notes (stderr). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  now(): number;
}

type WriteInvocation = Extract<
  Invocation,
  { command: 'upgrade' | 'approve' | 'pause' | 'resume' | 'abort' | 'rollback' }
>;
type StatusInvocation = Extract<Invocation, { command: 'status' }>;

/** Reads and writes that fail this often because the object keeps changing give up. */
const MAX_ATTEMPTS = 5;

export function fail(io: Io, f: Failure): ExitCode {
  io.err(`error: ${f.message}`);
  return f.code;
}

export function failureOf(
  c: Cluster,
  inv: { target: { kind: 'HotDeployment' | 'HotRelease'; name: string } },
  err: KubeError,
): Failure {
  return apiFailure(err, {
    what: targetString(inv.target),
    name: inv.target.name,
    namespace: c.namespace,
    server: c.server,
    context: c.context,
  });
}

function decide(inv: WriteInvocation, hd: HotDeployment, nowIso: string): Decision {
  switch (inv.command) {
    case 'upgrade':
      return decideUpgrade(hd, inv.image, inv.container, nowIso);
    case 'approve':
      return decideApprove(hd, inv.batch);
    case 'pause':
      return decidePause(hd, true);
    case 'resume':
      return decidePause(hd, false);
    case 'abort':
      return decideAbort(hd, nowIso);
    case 'rollback':
      return decideRollback(hd, inv.to, nowIso);
  }
}

export async function runWrite(c: Cluster, inv: WriteInvocation, io: Io): Promise<ExitCode> {
  const name = inv.target.name;
  let rejected: { rv: string | undefined; err: KubeError } | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const r = await getHd(c, name);
    if (!r.ok) return fail(io, failureOf(c, inv, r));
    const hd = r.body;
    // A rejected patch on an object that has not changed since is not a race: report it.
    if (rejected && rejected.rv === hd.metadata.resourceVersion)
      return fail(io, failureOf(c, inv, rejected.err));
    const d = decide(inv, hd, new Date(io.now()).toISOString().replace(/\.\d+Z$/, 'Z'));
    if (d.kind === 'refuse') return fail(io, { code: d.code, message: d.message });
    if (d.kind === 'noop') {
      io.out(d.message);
      return EXIT.ok;
    }
    const w = await patchHd(c, name, d.patch, inv.dryRun);
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
    rejected = { rv: hd.metadata.resourceVersion, err: w };
  }
  return fail(
    io,
    failureOf(c, inv, rejected?.err ?? { ok: false, status: 409, reason: 'Conflict', message: '' }),
  );
}

/** `status` without -w: one read of the HotDeployment and its pods. */
export async function runStatus(c: Cluster, inv: StatusInvocation, io: Io): Promise<ExitCode> {
  const r = await getHd(c, inv.target.name);
  if (!r.ok) return fail(io, failureOf(c, inv, r));
  const pods = await listPods(c, inv.target.name);
  if (!pods.ok) return fail(io, failureOf(c, inv, pods));
  const s = summarize(r.body, pods.body);
  io.out(inv.output === 'json' ? JSON.stringify(s, null, 2) : renderStatus(s, io.now()).join('\n'));
  return EXIT.ok;
}
