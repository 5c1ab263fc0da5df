// The placeholder's announcement: a version file in state `placeholder` and its liveness
// lock, held for the program's whole life. That is what tells "the placeholder runs" from
// "a new version has started but not announced yet" (the sidecar's slot readiness, and
// through it the kubelet's readiness probe of the slot container, rest on it).
// The placeholder never takes the active lock and watches nothing.
//
// Nothing here throws: a placeholder must never crash-loop, so every obstacle (no
// environment, no volume, a slot already in use, no lock bindings) is a reason, returned
// as a value, to stay idle without announcing.
import fs from 'node:fs';
import { ENV, PLACEHOLDER_VERSION, PROTOCOL_VERSION, SLOT_NAME } from '../sdk/constants.ts';
import { writeVersionFile, type Mode, type VersionFile } from '../sdk/versionFile.ts';

const MAX_VERSION_CHARS = 256;

type Env = Record<string, string | undefined>;

/** What varies per process start, passed in so that deciding stays pure. */
export interface Start {
  /** ms since the epoch. */
  now: number;
  pid: number;
  instance: string;
}

export type Plan =
  | {
      ok: true;
      dir: string;
      file: VersionFile;
      /** Configuration problems worked around (logged, never fatal). */
      notes: string[];
    }
  | { ok: false; reason: string };

/** The version file the placeholder would write, from its environment; pure. */
export function placeholderFile(env: Env, start: Start): Plan {
  const dir = env[ENV.dir] ?? '';
  const slot = env[ENV.slot] ?? '';
  if (dir === '' || slot === '') {
    const missing = [dir === '' ? ENV.dir : undefined, slot === '' ? ENV.slot : undefined].filter(Boolean);
    return {
      ok: false,
      reason: `${missing.join(' and ')} not set: not announcing (outside a managed pod, the placeholder only idles)`,
    };
  }
  if (!SLOT_NAME.test(slot)) {
    return {
      ok: false,
      reason: `${ENV.slot}=${JSON.stringify(slot)} is not a slot name (like "a" or "b"): not announcing; fix the pod spec`,
    };
  }
  const notes: string[] = [];
  const wanted = env[ENV.version] ?? '';
  let version = wanted === '' ? PLACEHOLDER_VERSION : wanted;
  if (version.length > MAX_VERSION_CHARS) {
    notes.push(
      `${ENV.version} is longer than ${MAX_VERSION_CHARS} characters: wrote "${PLACEHOLDER_VERSION}"`,
    );
    version = PLACEHOLDER_VERSION;
  }
  const rawMode = env[ENV.mode] ?? '';
  let mode: Mode = 'slot';
  if (rawMode === 'binary') mode = 'binary';
  else if (rawMode !== '' && rawMode !== 'slot') {
    notes.push(`${ENV.mode}=${JSON.stringify(rawMode)} is not "slot" or "binary": wrote "slot"`);
  }
  return {
    ok: true,
    dir,
    notes,
    file: {
      protocol: PROTOCOL_VERSION,
      slot,
      version,
      mode,
      state: 'placeholder',
      role: 'standby',
      pid: start.pid,
      instance: start.instance,
      startedAtMs: start.now,
      updatedAtMs: start.now,
    },
  };
}

export type Announcement =
  | { kind: 'announced'; dir: string; file: VersionFile; notes: string[]; aliveFd: number }
  | { kind: 'silent'; reason: string; notes: string[] };

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes the placeholder's version file, then takes the slot's liveness lock, in that
 * order (protocol §4.2): a dead process's file of this slot (say `waiting`) is replaced
 * before the slot looks alive. Stays silent, writing nothing, if the slot is alive.
 */
export async function announce(env: Env, start: Start): Promise<Announcement> {
  const plan = placeholderFile(env, start);
  if (!plan.ok) return { kind: 'silent', reason: plan.reason, notes: [] };
  const { dir, file, notes } = plan;
  if (!isDirectory(dir)) {
    return {
      kind: 'silent',
      reason: `${ENV.dir}=${dir} is not a directory: not announcing (mount the shared volume there in every slot container)`,
      notes,
    };
  }
  // Loaded here, not at the top: the lock bindings (koffi, glibc) failing to load must
  // leave an idle placeholder, not a crash loop.
  const loaded = await import('../sdk/volume.ts').then(
    (m) => ({ ok: true as const, m }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  if (!loaded.ok) {
    return {
      kind: 'silent',
      reason: `cannot load the lock bindings: ${(loaded.err as Error).message}; not announcing`,
      notes,
    };
  }
  const volume = loaded.m;
  try {
    volume.ensureVolume(dir);
    if (volume.isSlotAlive(dir, file.slot)) {
      return {
        kind: 'silent',
        reason: `slot "${file.slot}" is already in use by a live process (its liveness file is locked): not announcing, its version file left alone`,
        notes,
      };
    }
    writeVersionFile(dir, file);
    const aliveFd = volume.holdAlive(dir, file.slot);
    return { kind: 'announced', dir, file, notes, aliveFd };
  } catch (err) {
    return { kind: 'silent', reason: `cannot announce: ${(err as Error).message}`, notes };
  }
}

/** The placeholder's last word, on SIGTERM or SIGINT. */
export function stoppedFile(file: VersionFile, now: number): VersionFile {
  return { ...file, state: 'stopped', updatedAtMs: now };
}
