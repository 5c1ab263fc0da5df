import { describe, expect, it } from 'vitest';
import type { HotRelease } from '../hub/api/types.ts';
import type { Decision } from './decide.ts';
import {
  decideReleaseAbort,
  decideReleaseApprove,
  decideReleasePause,
  decideReleaseRollback,
} from './releaseDecide.ts';
import { finalRelease, makeRelease, member, releaseConditions } from './releaseFixtures.ts';

const refused = (d: Decision): string =>
  d.kind === 'refuse' ? `${d.code}: ${d.message}` : `not refused: ${d.kind}`;
const patched = (d: Decision) => (d.kind === 'patch' ? d : undefined);

const progressing = (step: number): HotRelease =>
  makeRelease({ phase: 'Progressing', step, conditions: releaseConditions() });
const rollingBack = (): HotRelease =>
  finalRelease('Failed', {
    conditions: releaseConditions({ progressing: 'RollingBack', degraded: 'GateFailed' }),
  });
const pending = (): HotRelease => {
  const hr = makeRelease({ phase: 'Pending', step: 1, conditions: [], clusters: [member('a'), member('b')] });
  if (hr.status) {
    delete hr.status.startedAt;
    delete hr.status.currentStep;
  }
  return hr;
};

describe('approve', () => {
  it('approves the step after the manual pause, with the resourceVersion it read', () => {
    const d = patched(decideReleaseApprove(makeRelease(), undefined));
    expect(d?.patch).toEqual({
      type: 'merge',
      body: { metadata: { resourceVersion: '42' }, spec: { approved: { step: 4 } } },
    });
    expect(d?.message).toBe(
      'hotrelease/web-v2 approved: step 4/5 (upgrade to 50% of the pods in every cluster) may start; spec.approved.step: none -> 4',
    );
  });

  it('approves up to --step N, also ahead of time while an earlier step runs', () => {
    expect(patched(decideReleaseApprove(makeRelease(), 5))?.message).toContain(
      'step 5/5 (upgrade to 100% of the pods in every cluster) may start (and every step before it); spec.approved.step: none -> 5',
    );
    expect(patched(decideReleaseApprove(progressing(1), 4))?.patch).toMatchObject({
      body: { spec: { approved: { step: 4 } } },
    });
  });

  it('approves a manual pause that is the last step (approved.step = steps + 1)', () => {
    const hr = makeRelease({
      step: 3,
      spec: {
        steps: [{ upgrade: { replicas: '100%' } }, { pause: { seconds: 5 } }, { pause: { manual: true } }],
      },
    });
    expect(patched(decideReleaseApprove(hr, undefined))?.patch).toMatchObject({
      body: { spec: { approved: { step: 4 } } },
    });
  });

  it('changes nothing when the step is approved already', () => {
    expect(decideReleaseApprove(makeRelease({ spec: { approved: { step: 4 } } }), undefined)).toEqual({
      kind: 'noop',
      message: 'hotrelease/web-v2 unchanged: steps up to 4 are already approved',
    });
  });

  it.each<[string, () => HotRelease, number | undefined, string]>([
    [
      'while a step runs',
      () => progressing(2),
      undefined,
      '1: hotrelease/web-v2 is not awaiting approval: it is Progressing at step 2/5 (gate error_ratio{cluster="$cluster"} < 0.01 in a (every 30s, passes after 3 in a row, fails after 2)). To approve steps ahead of time, name the last one: --step 3 to 5.',
    ],
    [
      'when paused by spec.paused',
      () =>
        makeRelease({ spec: { paused: true }, conditions: releaseConditions({ paused: 'PausedBySpec' }) }),
      undefined,
      '1: hotrelease/web-v2 is not awaiting approval: it is Paused by spec.paused at step 3/5',
    ],
    [
      'after it succeeded',
      () => finalRelease('Succeeded'),
      undefined,
      '1: nothing to approve: hotrelease/web-v2 is Succeeded',
    ],
    [
      'after it failed, even with --step',
      () => finalRelease('Failed'),
      4,
      '1: nothing to approve: hotrelease/web-v2 is Failed at step 2/5',
    ],
    [
      'without a status',
      () => makeRelease({ noStatus: true }),
      undefined,
      '1: cannot approve yet: hotrelease/web-v2 is without a status',
    ],
    ['a step beyond the plan', () => makeRelease(), 6, '1: --step 6: the release has 5 steps'],
    ['a step that has started', () => makeRelease(), 3, '1: --step 3: step 3 has already started'],
  ])('refuses %s', (_t, hr, step, words) => {
    expect(refused(decideReleaseApprove(hr(), step))).toContain(words);
  });
});

describe('pause and resume', () => {
  it('sets spec.paused, and says how to undo it', () => {
    const d = patched(decideReleasePause(progressing(4), true));
    expect(d?.patch).toEqual({ type: 'merge', body: { spec: { paused: true } } });
    expect(d?.message).toBe(
      'hotrelease/web-v2 paused: nothing new starts (upgrades in flight in the members finish); spec.paused: false -> true; resume with: kubectl hotupgrade resume hr/web-v2 -n apps',
    );
    const r = patched(
      decideReleasePause(makeRelease({ phase: 'Progressing', step: 4, spec: { paused: true } }), false),
    );
    expect(r?.patch).toEqual({ type: 'merge', body: { spec: { paused: false } } });
    expect(r?.message).toBe('hotrelease/web-v2 resumed; spec.paused: true -> false');
    expect(r?.notes).toEqual([]);
  });

  it('notes on resume that a manual pause still waits for approve', () => {
    const r = patched(decideReleasePause(makeRelease({ spec: { paused: true } }), false));
    expect(r?.notes).toEqual([
      'step 3 is a manual pause: the release also waits for: kubectl hotupgrade approve hr/web-v2 -n apps',
    ]);
  });

  it('changes nothing when already so', () => {
    expect(decideReleasePause(makeRelease({ spec: { paused: true } }), true).kind).toBe('noop');
    expect(decideReleasePause(makeRelease(), false)).toEqual({
      kind: 'noop',
      message: 'hotrelease/web-v2 unchanged: not paused',
    });
  });

  it('refuses to pause a release in a final phase, and resumes one', () => {
    expect(refused(decideReleasePause(finalRelease('Succeeded'), true))).toBe(
      '1: nothing to pause: hotrelease/web-v2 is Succeeded: every cluster runs registry.example.com/web:v2 (a final phase)',
    );
    expect(decideReleasePause(finalRelease('Failed', { spec: { paused: true } }), false).kind).toBe('patch');
  });
});

describe('abort', () => {
  it('sets spec.abort, guarded by a test of the phase', () => {
    const d = patched(decideReleaseAbort(progressing(4)));
    expect(d?.patch).toEqual({
      type: 'json',
      ops: [
        { op: 'test', path: '/status/phase', value: 'Progressing' },
        { op: 'add', path: '/spec/abort', value: true },
      ],
    });
    expect(d?.message).toContain(
      'hotrelease/web-v2 aborted: nothing more is upgraded and every pod keeps the version it runs',
    );
    expect(d?.message).toContain('spec.abort: false -> true');
  });

  it('tests an absent phase as null (a release the hub has not seen)', () => {
    expect(patched(decideReleaseAbort(makeRelease({ noStatus: true })))?.patch).toMatchObject({
      ops: [{ op: 'test', path: '/status/phase', value: null }, {}],
    });
  });

  it.each<[string, () => HotRelease, string]>([
    ['Succeeded', () => finalRelease('Succeeded'), '1: nothing to abort: hotrelease/web-v2 is Succeeded'],
    [
      'Failed',
      () => finalRelease('Failed'),
      'a final phase); to go back, use: kubectl hotupgrade rollback hr/web-v2 -n apps',
    ],
    ['Aborted', () => finalRelease('Aborted'), '1: nothing to abort: hotrelease/web-v2 is Aborted'],
    ['RolledBack', () => finalRelease('RolledBack'), '1: nothing to abort: hotrelease/web-v2 is RolledBack'],
    [
      'rolling back',
      () => makeRelease({ phase: 'Progressing', spec: { rollback: true } }),
      'a rollback runs to its end',
    ],
  ])('refuses a release that is %s', (_t, hr, words) => {
    expect(refused(decideReleaseAbort(hr()))).toContain(words);
  });

  it('changes nothing when spec.abort is set already', () => {
    expect(decideReleaseAbort(makeRelease({ spec: { abort: true } })).kind).toBe('noop');
  });
});

describe('rollback', () => {
  it.each<[string, () => HotRelease]>([
    ['Succeeded', () => finalRelease('Succeeded')],
    ['Failed', () => finalRelease('Failed')],
    ['Aborted', () => finalRelease('Aborted')],
    ['Progressing', () => progressing(4)],
    ['Paused', () => makeRelease()],
  ])('sets spec.rollback on a release that is %s, guarded by a test of the phase', (phase, hr) => {
    const d = patched(decideReleaseRollback(hr()));
    expect(d?.patch).toEqual({
      type: 'json',
      ops: [
        { op: 'test', path: '/status/phase', value: phase },
        { op: 'add', path: '/spec/rollback', value: true },
      ],
    });
    expect(d?.message).toContain(
      'hotrelease/web-v2 rolling back: every cluster it touched goes back to its previous image',
    );
  });

  it.each<[string, () => HotRelease, string]>([
    [
      'RolledBack',
      () => finalRelease('RolledBack'),
      '1: nothing to roll back: hotrelease/web-v2 is RolledBack',
    ],
    ['rolling back by itself', rollingBack, '1: hotrelease/web-v2 is already rolling back'],
    [
      'asked to roll back already',
      () => makeRelease({ spec: { rollback: true } }),
      'is already rolling back',
    ],
    [
      'Pending with nothing touched',
      pending,
      '1: nothing to roll back: hotrelease/web-v2 is Pending (not started) and has changed no cluster; to stop it, use: kubectl hotupgrade abort hr/web-v2 -n apps',
    ],
    ['without a status', () => makeRelease({ noStatus: true }), 'has changed no cluster'],
  ])('refuses a release that is %s', (_t, hr, words) => {
    expect(refused(decideReleaseRollback(hr()))).toContain(words);
  });

  it('has no pause note: the hub rolls back a paused release too', () => {
    expect(patched(decideReleaseRollback(makeRelease({ spec: { paused: true } })))?.notes).toEqual([]);
  });
});
