import { describe, expect, it } from 'vitest';
import { Store, diffRelist } from './store.ts';
import type { KubeObject } from './types.ts';

const pod = (name: string, rv: string, owner?: string): KubeObject => ({
  metadata: { namespace: 'ns', name, resourceVersion: rv, ...(owner ? { labels: { owner } } : {}) },
});
const names = (objs: KubeObject[]): (string | undefined)[] => objs.map((o) => o.metadata?.name).sort();

describe('Store', () => {
  it('keys objects by namespace/name and cluster-scoped ones by name', () => {
    const s = new Store<KubeObject>();
    s.set(pod('a', '1'));
    s.set({ metadata: { name: 'node-1' } });
    expect(s.keys().sort()).toEqual(['node-1', 'ns/a']);
    expect(s.get('ns/a')?.metadata?.resourceVersion).toBe('1');
  });

  it('keeps the index in step with updates and deletes', () => {
    const s = new Store<KubeObject>((o) => o.metadata?.labels?.owner);
    s.set(pod('a', '1', 'x'));
    s.set(pod('b', '1', 'x'));
    s.set(pod('c', '1'));
    expect(names(s.byIndex('x'))).toEqual(['a', 'b']);
    s.set(pod('a', '2', 'y'));
    expect(names(s.byIndex('x'))).toEqual(['b']);
    expect(names(s.byIndex('y'))).toEqual(['a']);
    s.delete('ns/b');
    expect(s.byIndex('x')).toEqual([]);
  });
});

describe('diffRelist', () => {
  const cached = new Store<KubeObject>();
  for (const p of [pod('same', '1'), pod('changed', '1'), pod('gone', '1')]) cached.set(p);
  const diff = diffRelist(cached, [pod('same', '1'), pod('changed', '2'), pod('new', '3')]);

  it.each([
    { title: 'an object only in the list is an add', got: () => names(diff.adds), want: ['new'] },
    {
      title: 'an object with another resourceVersion is an update',
      got: () =>
        diff.updates.map(
          ([o, n]) => `${o.metadata?.name}:${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`,
        ),
      want: ['changed:1->2'],
    },
    { title: 'an object missing from the list is a delete', got: () => names(diff.deletes), want: ['gone'] },
  ])('$title', ({ got, want }) => {
    expect(got()).toEqual(want);
  });
});
