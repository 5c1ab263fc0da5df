// The informer's cache: objects by `namespace/name`, with one optional index (e.g. pods
// by the owner-name label). Plus the pure diff a relist applies to it.
import { objectKey, type KubeObject } from './types.ts';

/** The index value(s) of an object, or undefined to leave it out of the index. */
export type IndexFunc<T> = (obj: T) => string | undefined;

export class Store<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexFn: IndexFunc<T> | undefined;
  readonly #index = new Map<string, Set<string>>();

  constructor(indexFn?: IndexFunc<T>) {
    this.#indexFn = indexFn;
  }

  get size(): number {
    return this.#items.size;
  }

  /** The object under `namespace/name` (or `name` when cluster-scoped). */
  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Objects whose index function returned `value`. */
  byIndex(value: string): T[] {
    const keys = this.#index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.#items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** Stores obj; returns the object it replaced. */
  set(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    this.#indexAdd(key, obj);
    return old;
  }

  /** Removes key; returns what was stored. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  #indexAdd(key: string, obj: T): void {
    const v = this.#indexFn?.(obj);
    if (v === undefined) return;
    let set = this.#index.get(v);
    if (!set) this.#index.set(v, (set = new Set()));
    set.add(key);
  }

  #unindex(key: string, obj: T): void {
    const v = this.#indexFn?.(obj);
    if (v === undefined) return;
    const set = this.#index.get(v);
    set?.delete(key);
    if (set?.size === 0) this.#index.delete(v);
  }
}

export interface RelistDiff<T> {
  /** In the list, not in the cache. */
  adds: T[];
  /** In both, with another resourceVersion: [cached, listed]. */
  updates: [T, T][];
  /** In the cache, not in the list: deleted while we were not watching. */
  deletes: T[];
}

/**
 * What a relist changes in the cache. Unchanged objects (same resourceVersion) produce no
 * update: a relist after a dropped watch must not requeue 10 000 pods; the periodic resync
 * is what re-delivers everything.
 */
export function diffRelist<T extends KubeObject>(cached: Store<T>, listed: readonly T[]): RelistDiff<T> {
  const diff: RelistDiff<T> = { adds: [], updates: [], deletes: [] };
  const seen = new Set<string>();
  for (const obj of listed) {
    const key = objectKey(obj);
    seen.add(key);
    const old = cached.get(key);
    if (!old) diff.adds.push(obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) diff.updates.push([old, obj]);
  }
  for (const key of cached.keys()) {
    if (!seen.has(key)) {
      const old = cached.get(key);
      if (old) diff.deletes.push(old);
    }
  }
  return diff;
}
