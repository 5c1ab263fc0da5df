// What a user watching `kubectl get hotrelease -w` and the member HotDeployments would
// have seen: the release and each member's target polled every intervalMs in the
// background, each snapshot stamped with our clock. The tests ask it for the order of
// phases and conditions, and when a member's image changed. A member that does not answer
// within a second (cut off) is recorded as undefined.
import type { HotDeployment } from '../../controller/api/types.ts';
import type { HotRelease } from '../../hub/api/types.ts';
import { hdPath, releasePath, type HubEnv } from './env.ts';

export interface Snapshot {
  /** Our clock, ms since the epoch. */
  at: number;
  release: HotRelease | undefined;
  hds: Record<string, HotDeployment | undefined>;
}

export interface Timeline {
  snapshots: Snapshot[];
  /** The values of f over time, consecutive repeats (and undefined) dropped. */
  changes(f: (s: Snapshot) => string | number | undefined): (string | number)[];
  /** The time of the first snapshot where ok holds, or undefined. */
  firstAt(ok: (s: Snapshot) => boolean): number | undefined;
  stop(): Promise<Snapshot[]>;
}

/** "True/Reason" of a condition, or "none". */
export function conditionOf(
  obj: { status?: { conditions?: { type: string; status: string; reason?: string }[] } } | undefined,
  type: string,
): string {
  const c = obj?.status?.conditions?.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason ?? ''}` : 'none';
}

export function recordTimeline(env: HubEnv, ns: string, name: string, intervalMs = 150): Timeline {
  const snapshots: Snapshot[] = [];
  let running = true;
  const get = async <T>(client: HubEnv['hub']['client'], path: string): Promise<T | undefined> => {
    const r = await client.get<T>(path, { signal: AbortSignal.timeout(1000) });
    return r.ok ? r.body : undefined;
  };
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const [release, ...hds] = await Promise.all([
        get<HotRelease>(env.hub.client, releasePath(ns, name)),
        ...Object.values(env.members).map((m) => get<HotDeployment>(m.client, hdPath(ns, name))),
      ]);
      snapshots.push({
        at,
        release,
        hds: Object.fromEntries(Object.keys(env.members).map((m, i) => [m, hds[i]])),
      });
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - at))));
    }
  })();
  return {
    snapshots,
    changes(f) {
      const out: (string | number)[] = [];
      for (const s of snapshots) {
        const v = f(s);
        if (v !== undefined && out[out.length - 1] !== v) out.push(v);
      }
      return out;
    },
    firstAt(ok) {
      return snapshots.find(ok)?.at;
    },
    async stop() {
      running = false;
      await loop;
      return snapshots;
    },
  };
}
