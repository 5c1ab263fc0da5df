// What each write command changes on a HotRelease, decided from the object as read: a
// patch of its spec and the words that say what it does, nothing to do, or a refusal that
// says why and where the release stands. Pure: the caller reads, writes and retries.
//
// Every action is a spec field the hub controller acts on (docs/crd-reference.md):
// approve spec.approved.step, pause and resume spec.paused, abort spec.abort, rollback
// spec.rollback. Approve carries the resourceVersion it decided on (an approval is for the
// step it saw); abort and rollback test the phase they were decided on, so a release that
// reaches a final phase meanwhile is decided again.
import type { HotRelease } from '../hub/api/types.ts';
import { EXIT } from './constants.ts';
import type { Decision, JsonPatchOp } from './decide.ts';
import {
  awaitingApproval,
  describeRelease,
  isFinal,
  releaseRef,
  rollingBack,
  touched,
} from './releaseSummary.ts';
import { describeStep } from './steps.ts';

const who = (hr: HotRelease): string => `hotrelease/${hr.metadata.name ?? ''}`;

const refuse = (message: string): Decision => ({ kind: 'refuse', code: EXIT.state, message });

/** Ops that set a boolean of the spec, guarded by a test of the phase the decision was made on. */
function guardedFlag(hr: HotRelease, field: 'abort' | 'rollback'): JsonPatchOp[] {
  // `test` of an absent path against null passes (the API server's json-patch).
  return [
    { op: 'test', path: '/status/phase', value: hr.status?.phase ?? null },
    { op: 'add', path: `/spec/${field}`, value: true },
  ];
}

function pausedNote(hr: HotRelease): string[] {
  return hr.spec.paused
    ? [`spec.paused is true: nothing starts until: kubectl hotupgrade resume ${releaseRef(hr)}`]
    : [];
}

export function decideReleaseApprove(hr: HotRelease, step: number | undefined): Decision {
  const s = hr.status;
  const total = hr.spec.steps.length;
  const state = describeRelease(hr);
  if (!s?.phase) return refuse(`cannot approve yet: ${who(hr)} is ${state}`);
  if (isFinal(s.phase) || rollingBack(hr)) return refuse(`nothing to approve: ${who(hr)} is ${state}`);
  const cur = s.currentStep ?? 0;
  const awaiting = awaitingApproval(hr);
  // A manual pause as the last step waits for approved.step = total + 1.
  const max = awaiting ? Math.max(total, cur + 1) : total;
  if (step === undefined && !awaiting) {
    const ahead =
      cur + 1 <= total
        ? ` To approve steps ahead of time, name the last one: --step ${cur + 1} to ${total}.`
        : '';
    return refuse(`${who(hr)} is not awaiting approval: it is ${state}.${ahead}`);
  }
  const n = step ?? cur + 1;
  if (n > max) return refuse(`--step ${n}: the release has ${total} steps`);
  if (n <= cur) {
    return refuse(
      `--step ${n}: step ${n} has already started (${who(hr)} is ${state}); approve step ${cur + 1} or later`,
    );
  }
  const prev = hr.spec.approved?.step;
  if (prev !== undefined && prev >= n) {
    return { kind: 'noop', message: `${who(hr)} unchanged: steps up to ${prev} are already approved` };
  }
  const target = hr.spec.steps[n - 1];
  return {
    kind: 'patch',
    patch: {
      type: 'merge',
      // The resourceVersion makes the write fail if the release moved since it was read.
      body: { metadata: { resourceVersion: hr.metadata.resourceVersion }, spec: { approved: { step: n } } },
    },
    message: `${who(hr)} approved: step ${Math.min(n, total)}/${total}${target ? ` (${describeStep(target)})` : ''} may start${n > cur + 1 ? ' (and every step before it)' : ''}; spec.approved.step: ${prev ?? 'none'} -> ${n}`,
    notes: pausedNote(hr),
  };
}

export function decideReleasePause(hr: HotRelease, paused: boolean): Decision {
  const now = hr.spec.paused ?? false;
  if (paused && isFinal(hr.status?.phase)) {
    return refuse(`nothing to pause: ${who(hr)} is ${describeRelease(hr)} (a final phase)`);
  }
  if (now === paused) {
    return { kind: 'noop', message: `${who(hr)} unchanged: ${paused ? 'already paused' : 'not paused'}` };
  }
  const notes: string[] = [];
  if (!paused && hr.status?.currentStep !== undefined) {
    const step = hr.spec.steps[hr.status.currentStep - 1];
    const approved = hr.spec.approved?.step ?? 0;
    if (step?.pause?.manual && approved < hr.status.currentStep + 1) {
      notes.push(
        `step ${hr.status.currentStep} is a manual pause: the release also waits for: kubectl hotupgrade approve ${releaseRef(hr)}`,
      );
    }
  }
  return {
    kind: 'patch',
    patch: { type: 'merge', body: { spec: { paused } } },
    message: paused
      ? `${who(hr)} paused: nothing new starts (upgrades in flight in the members finish); spec.paused: false -> true; resume with: kubectl hotupgrade resume ${releaseRef(hr)}`
      : `${who(hr)} resumed; spec.paused: true -> false`,
    notes,
  };
}

export function decideReleaseAbort(hr: HotRelease): Decision {
  const phase = hr.status?.phase;
  if (isFinal(phase)) {
    const back =
      phase === 'RolledBack' ? '' : `; to go back, use: kubectl hotupgrade rollback ${releaseRef(hr)}`;
    return refuse(`nothing to abort: ${who(hr)} is ${describeRelease(hr)} (a final phase)${back}`);
  }
  if (rollingBack(hr))
    return refuse(`cannot abort: ${who(hr)} is ${describeRelease(hr)}; a rollback runs to its end`);
  if (hr.spec.abort) {
    return {
      kind: 'noop',
      message: `${who(hr)} unchanged: spec.abort is already true (the hub controller is catching up)`,
    };
  }
  return {
    kind: 'patch',
    patch: { type: 'json', ops: guardedFlag(hr, 'abort') },
    message: `${who(hr)} aborted: nothing more is upgraded and every pod keeps the version it runs (phase Aborted); spec.abort: false -> true; to go back later: kubectl hotupgrade rollback ${releaseRef(hr)}`,
    notes: [],
  };
}

export function decideReleaseRollback(hr: HotRelease): Decision {
  const phase = hr.status?.phase;
  if (phase === 'RolledBack') return refuse(`nothing to roll back: ${who(hr)} is ${describeRelease(hr)}`);
  if (rollingBack(hr)) {
    const why = hr.spec.rollback ? 'rolling back (spec.rollback is true)' : describeRelease(hr);
    return refuse(
      `${who(hr)} is already ${why}; follow it with: kubectl hotupgrade status ${releaseRef(hr)} -w`,
    );
  }
  if ((phase === undefined || phase === 'Pending') && !touched(hr)) {
    return refuse(
      `nothing to roll back: ${who(hr)} is ${describeRelease(hr)} and has changed no cluster; to stop it, use: kubectl hotupgrade abort ${releaseRef(hr)}`,
    );
  }
  return {
    kind: 'patch',
    patch: { type: 'json', ops: guardedFlag(hr, 'rollback') },
    // A rollback runs even while spec.paused is true: no pause note.
    message: `${who(hr)} rolling back: every cluster it touched goes back to its previous image, one cluster at a time, last upgraded first (phase RolledBack when done); spec.rollback: false -> true; follow it with: kubectl hotupgrade status ${releaseRef(hr)} -w`,
    notes: [],
  };
}
