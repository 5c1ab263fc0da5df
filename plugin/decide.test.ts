import { describe, expect, it } from 'vitest';
import { IMAGE_CHANGE_ANNOTATION } from './constants.ts';
import {
  decideAbort,
  decideApprove,
  decidePause,
  decideRollback,
  decideUpgrade,
  imageChangeOf,
  pointer,
  type Decision,
} from './decide.ts';
import { completeHd, conditions, rolloutHd, V1, V2, type RolloutOptions } from './fixtures.ts';

const NOW = '2026-01-02T03:04:05Z';
const V3 = 'registry.example.com/web:v3';
const IMAGE = '/spec/template/spec/containers/0/image';
const CHANGE = `/metadata/annotations/${pointer(IMAGE_CHANGE_ANNOTATION)}`;
const ROLLBACK = '/metadata/annotations/hotupgrade.io~1rollback';

const refused = (d: Decision): string =>
  d.kind === 'refuse' ? `${d.code}: ${d.message}` : `not refused: ${d.kind}`;

describe('upgrade', () => {
  it('swaps the hot image, guarded by a test of the old one, and records the change', () => {
    const d = decideUpgrade(completeHd(V1), V2, undefined, NOW);
    expect(d).toEqual({
      kind: 'patch',
      patch: {
        type: 'json',
        ops: [
          { op: 'test', path: IMAGE, value: V1 },
          { op: 'replace', path: IMAGE, value: V2 },
          { op: 'add', path: CHANGE, value: JSON.stringify({ from: V1, to: V2, at: NOW, by: 'upgrade' }) },
        ],
      },
      message: `hotdeployment/web upgraded: container app: ${V1} -> ${V2} (hot upgrade in 2 batches; follow it with: kubectl hotupgrade status hd/web -n shop -w)`,
      notes: [],
    });
  });

  it('creates the annotations map when the object has none, guarded by a test that it is still absent', () => {
    const d = decideUpgrade(completeHd(V1, { annotations: undefined }), V2, undefined, NOW);
    expect(d.kind === 'patch' && d.patch.type === 'json' ? d.patch.ops.slice(2) : []).toEqual([
      { op: 'test', path: '/metadata/annotations', value: null },
      {
        op: 'add',
        path: '/metadata/annotations',
        value: { [IMAGE_CHANGE_ANNOTATION]: JSON.stringify({ from: V1, to: V2, at: NOW, by: 'upgrade' }) },
      },
    ]);
  });

  it('drops the controller rollback record, which would apply again if the image came back to it', () => {
    const record = JSON.stringify({ from: V3, to: V1, reason: 'r', at: NOW });
    const d = decideUpgrade(
      completeHd(V1, { annotations: { 'hotupgrade.io/rollback': record } }),
      V2,
      undefined,
      NOW,
    );
    expect(d.kind === 'patch' && d.patch.type === 'json' ? d.patch.ops.slice(2, 4) : []).toEqual([
      { op: 'test', path: ROLLBACK, value: record },
      { op: 'remove', path: ROLLBACK },
    ]);
  });

  it('changes nothing when the container already asks for the image', () => {
    expect(decideUpgrade(completeHd(V2), V2, undefined, NOW)).toEqual({
      kind: 'noop',
      message: `hotdeployment/web unchanged: container app already asks for ${V2}`,
    });
  });

  it('refuses a container that is not in the template (exit 3)', () => {
    expect(refused(decideUpgrade(completeHd(), V3, 'log', NOW))).toBe(
      '3: container "log" is not in hotdeployment/web (containers: app)',
    );
  });

  it('warns that another container than the hot one recreates the pods, and records nothing', () => {
    const hd = completeHd();
    hd.spec.template.spec?.containers.push({ name: 'log', image: 'log:1' });
    const d = decideUpgrade(hd, 'log:2', 'log', NOW);
    expect(d.kind === 'patch' && d.patch.type === 'json' ? d.patch.ops : []).toEqual([
      { op: 'test', path: '/spec/template/spec/containers/1/image', value: 'log:1' },
      { op: 'replace', path: '/spec/template/spec/containers/1/image', value: 'log:2' },
    ]);
    expect(d.kind === 'patch' ? d.notes : []).toEqual([
      'log is not the hot container (app): this change recreates the pods, maxUnavailable at a time',
    ]);
  });

  it('says when it replaces a rollout in progress, and when the object is paused', () => {
    const d = decideUpgrade(rolloutHd({ paused: true }), V3, undefined, NOW);
    expect(d.kind === 'patch' ? d.notes : []).toEqual([
      `this replaces the rollout to ${V2} in progress: pods already there are hot-upgraded again, to v3`,
      'spec.updateStrategy.paused is true: no pod moves until: kubectl hotupgrade resume hd/web -n shop',
    ]);
  });
});

describe('approve', () => {
  const approval = (revision: string, batch: number): object => ({
    metadata: { resourceVersion: '100' },
    spec: { updateStrategy: { approved: { revision, batch } } },
  });

  it.each<[string, RolloutOptions, number | undefined, object]>([
    ['the batch after the one that waits', {}, undefined, approval('rev-2', 2)],
    ['a named batch while one waits', { batch: { total: 3 } }, 3, approval('rev-2', 3)],
    [
      'a later batch ahead of time, while an earlier one upgrades',
      { batch: { number: 1, total: 3, state: 'Upgrading' } },
      3,
      approval('rev-2', 3),
    ],
  ])('approves %s, for the rollout it read (guarded by its resourceVersion)', (_t, o, batch, body) => {
    const d = decideApprove(rolloutHd(o), batch);
    expect(d.kind === 'patch' ? d.patch : d).toEqual({ type: 'merge', body });
  });

  it('says what it approved', () => {
    const d = decideApprove(rolloutHd(), undefined);
    expect(d.kind === 'patch' ? d.message : '').toBe(
      'hotdeployment/web approved: batch 2/2 of revision rev-2 may start',
    );
  });

  it.each<[string, RolloutOptions, number | undefined, string]>([
    [
      'while upgrading',
      { batch: { number: 1, state: 'Upgrading' } },
      undefined,
      '1: hotdeployment/web is not awaiting approval: it is upgrading batch 1/2: 2/2 pods at v2. To approve batches ahead of time, name the last one: --batch 2 to 2.',
    ],
    [
      'a complete rollout',
      { rolloutKind: 'None', conditions: conditions({ progressing: 'RolloutComplete' }) },
      undefined,
      '1: nothing to approve: hotdeployment/web is not rolling out',
    ],
    [
      'a recreate',
      { rolloutKind: 'Recreate' },
      undefined,
      '1: nothing to approve: hotdeployment/web is recreating pods',
    ],
    [
      'a degraded rollout',
      { conditions: conditions({ paused: 'AwaitingApproval', degraded: 'HandoverFailed' }) },
      undefined,
      '1: hotdeployment/web is degraded (HandoverFailed)',
    ],
    [
      'a stale status',
      { generation: 3, observed: 2 },
      undefined,
      '1: cannot approve yet: hotdeployment/web is not yet observed at generation 3',
    ],
    [
      'no status',
      { noStatus: true },
      undefined,
      '1: cannot approve yet: hotdeployment/web is without a status',
    ],
    ['a batch past the last', {}, 3, '1: --batch 3: the rollout has 2 batches'],
    [
      'a batch that has started',
      { batch: { number: 2, total: 3, state: 'Upgrading' } },
      2,
      '1: --batch 2: batch 2 has already started',
    ],
  ])('refuses %s (exit 1), saying what the rollout does', (_t, o, batch, words) => {
    expect(refused(decideApprove(rolloutHd(o), batch))).toContain(words);
  });

  it('changes nothing when the batch is approved already', () => {
    const d = decideApprove(rolloutHd({ approved: { revision: 'rev-2', batch: 2 } }), undefined);
    expect(d).toEqual({
      kind: 'noop',
      message: 'hotdeployment/web unchanged: batches up to 2 of revision rev-2 are already approved',
    });
  });

  it('approves again for another revision (an old approval does not count)', () => {
    expect(decideApprove(rolloutHd({ approved: { revision: 'rev-1', batch: 2 } }), undefined).kind).toBe(
      'patch',
    );
  });
});

describe('pause and resume', () => {
  it('pause sets spec.updateStrategy.paused', () => {
    const d = decidePause(rolloutHd(), true);
    expect(d.kind === 'patch' ? d.patch : d).toEqual({
      type: 'merge',
      body: { spec: { updateStrategy: { paused: true } } },
    });
  });

  it('resume clears it, and reminds of a pending approval', () => {
    const d = decidePause(rolloutHd({ paused: true }), false);
    expect(d.kind === 'patch' ? d.patch : d).toEqual({
      type: 'merge',
      body: { spec: { updateStrategy: { paused: false } } },
    });
    expect(d.kind === 'patch' ? d.notes : []).toEqual([
      'the rollout also waits for approval of batch 2: kubectl hotupgrade approve hd/web -n shop',
    ]);
  });

  it.each<[boolean, string]>([
    [true, 'hotdeployment/web unchanged: already paused'],
    [false, 'hotdeployment/web unchanged: not paused'],
  ])('paused=%s twice changes nothing', (paused, message) => {
    expect(decidePause(rolloutHd({ paused }), paused)).toEqual({ kind: 'noop', message });
  });
});

describe('abort', () => {
  it('sets the image back to status.currentImage with the controller rollback record', () => {
    const d = decideAbort(rolloutHd(), NOW);
    expect(d.kind === 'patch' ? d.patch : d).toEqual({
      type: 'json',
      ops: [
        { op: 'test', path: '/metadata/generation', value: 2 },
        { op: 'test', path: IMAGE, value: V2 },
        { op: 'replace', path: IMAGE, value: V1 },
        {
          op: 'add',
          path: ROLLBACK,
          value: JSON.stringify({
            from: V2,
            to: V1,
            reason: 'aborted with kubectl hotupgrade abort',
            at: NOW,
            generation: 3,
          }),
        },
      ],
    });
  });

  it.each<[string, RolloutOptions, string]>([
    [
      'a complete rollout',
      { current: V2, rolloutKind: 'None' },
      `1: nothing to abort: no hot rollout in progress, the pods run ${V2} as the spec asks. To go back to an earlier image, use rollback.`,
    ],
    [
      'a recreate',
      { current: V2, rolloutKind: 'Recreate' },
      '1: nothing to abort: no hot rollout in progress, the pods run registry.example.com/web:v2 as the spec asks. Pods are being recreated',
    ],
    ['no status', { noStatus: true }, '1: cannot abort: hotdeployment/web has no status.currentImage yet'],
  ])('refuses %s', (_t, o, words) => {
    expect(refused(decideAbort(rolloutHd(o), NOW))).toContain(words);
  });
});

describe('rollback', () => {
  const target = (d: Decision): unknown =>
    d.kind === 'patch' && d.patch.type === 'json' ? d.patch.ops[1]?.value : d;

  it.each<[string, ReturnType<typeof rolloutHd>, string | undefined, string]>([
    ['to --to', completeHd(V2), V3, V3],
    ['during a rollout: to status.currentImage', rolloutHd(), undefined, V1],
    [
      'after a rollout: to the image before the last upgrade',
      completeHd(V2, {
        annotations: {
          [IMAGE_CHANGE_ANNOTATION]: JSON.stringify({ from: V1, to: V2, at: NOW, by: 'upgrade' }),
        },
      }),
      undefined,
      V1,
    ],
  ])('goes %s', (_t, hd, to, image) => {
    expect(target(decideRollback(hd, to, NOW))).toBe(image);
  });

  it('records the change, so that a second rollback undoes the first', () => {
    const d = decideRollback(rolloutHd(), undefined, NOW);
    expect(d.kind === 'patch' && d.patch.type === 'json' ? d.patch.ops[2] : d).toEqual({
      op: 'add',
      path: CHANGE,
      value: JSON.stringify({ from: V2, to: V1, at: NOW, by: 'rollback' }),
    });
  });

  it.each<[string, ReturnType<typeof rolloutHd>]>([
    ['no record', completeHd(V2)],
    [
      'a record of another image (set since by someone else)',
      completeHd(V3, {
        annotations: {
          [IMAGE_CHANGE_ANNOTATION]: JSON.stringify({ from: V1, to: V2, at: NOW, by: 'upgrade' }),
        },
      }),
    ],
    ['a malformed record', completeHd(V2, { annotations: { [IMAGE_CHANGE_ANNOTATION]: '{' } })],
  ])('refuses after a complete rollout with %s, asking for --to', (_t, hd) => {
    expect(refused(decideRollback(hd, undefined, NOW))).toContain('1: no earlier image known');
    expect(refused(decideRollback(hd, undefined, NOW))).toContain('name the image with --to');
  });

  it('changes nothing when --to is the image already asked for', () => {
    expect(decideRollback(completeHd(V2), V2, NOW).kind).toBe('noop');
  });

  it('reads records leniently', () => {
    expect(
      imageChangeOf(completeHd(V2, { annotations: { [IMAGE_CHANGE_ANNOTATION]: '{"from":"a","to":"b"}' } })),
    ).toEqual({
      from: 'a',
      to: 'b',
      at: '',
      by: 'upgrade',
    });
  });
});

describe('pointer', () => {
  it('escapes ~ and / as RFC 6901 says', () => {
    expect(pointer('hotupgrade.io/a~b/c')).toBe('hotupgrade.io~1a~0b~1c');
  });
});
