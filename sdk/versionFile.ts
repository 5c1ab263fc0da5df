// The version file: what one slot's process says about itself. Written only by that
// process, replaced atomically (write a temporary file, fsync, rename), read by the
// other slot and by the sidecar. Parsing never throws: a malformed file is a value.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULTS, PATHS, PROTOCOL_VERSION, SLOT_NAME } from './constants.ts';

export const SLOT_STATES = [
  'starting', // process is up, not yet announced
  'waiting', // announced; waiting for the active lock
  'serving', // holds the active lock and serves
  'draining', // holds the lock, finishing in-flight work for a successor
  'idle', // released the lock after a handover; guards in case the successor dies
  'failed', // gave up (deadline passed or start-up failed); still a standby
  'staging', // binary mode: copying binaries into the shared volume
  'staged', // binary mode: binaries complete; nothing else to do
  'placeholder', // the placeholder program: idle, holds no lock but its liveness lock, will never serve
  'stopped', // exited cleanly
] as const;
export type SlotState = (typeof SLOT_STATES)[number];

export type Role = 'successor' | 'standby';
export type Mode = 'slot' | 'binary';

/** One completed handover as the new server measured it. All durations in ms. */
export interface HandoverRecord {
  from: { slot: string; version: string };
  to: { slot: string; version: string };
  /** Successor announced -> predecessor started draining. */
  noticeMs: number;
  /** Predecessor started draining -> released the lock. */
  drainMs: number;
  /** Lock released -> successor serving. */
  takeoverMs: number;
  /** Announced -> serving. */
  totalMs: number;
  atMs: number;
}

export interface VersionFile {
  protocol: number;
  slot: string;
  version: string;
  mode: Mode;
  state: SlotState;
  role: Role;
  pid: number;
  /** Random per process start, so a restart is never mistaken for the same process. */
  instance: string;
  startedAtMs: number;
  updatedAtMs: number;
  announcedAtMs?: number;
  lockAcquiredAtMs?: number;
  /** The successor listens (holding requests until it owns the lock); the predecessor may stop listening. */
  listeningAtMs?: number;
  servingAtMs?: number;
  drainStartedAtMs?: number;
  releasedAtMs?: number;
  /** While draining: the slot we hand over to. */
  successor?: string;
  /** slot@version pairs whose successor died in probation; never handed over to again by this process. */
  rejected?: string[];
  /** The handover this process completed as the successor, if any. */
  handover?: HandoverRecord;
  /** Binary mode: the version the active slot's launcher runs from the shared volume, if not its own image's. */
  runningVersion?: string;
  error?: string;
}

export type ParseResult = { ok: true; file: VersionFile } | { ok: false; error: string };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

function isHandover(v: unknown): v is HandoverRecord {
  if (typeof v !== 'object' || v === null) return false;
  const h = v as Record<string, unknown>;
  const end = (e: unknown): boolean =>
    typeof e === 'object' &&
    e !== null &&
    isStr((e as Record<string, unknown>).slot) &&
    isStr((e as Record<string, unknown>).version);
  return (
    end(h.from) &&
    end(h.to) &&
    ['noticeMs', 'drainMs', 'takeoverMs', 'totalMs', 'atMs'].every((k) => isInt(h[k]))
  );
}

/** Validates a version file's text; every error names the field and what was expected. */
export function parseVersionFile(text: string, expectedSlot?: string): ParseResult {
  if (text.length === 0) return { ok: false, error: 'file is empty (truncated or being created)' };
  if (text.length > DEFAULTS.maxVersionFileBytes)
    return { ok: false, error: `file is larger than ${DEFAULTS.maxVersionFileBytes} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not valid JSON (${(err as Error).message}); the file may be truncated` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, error: 'top level must be a JSON object' };
  const o = raw as Record<string, unknown>;
  const fail = (field: string, want: string): ParseResult => ({
    ok: false,
    error: `field "${field}" must be ${want}, got ${JSON.stringify(o[field]) ?? 'nothing'}`,
  });
  if (o.protocol !== PROTOCOL_VERSION) return fail('protocol', `${PROTOCOL_VERSION}`);
  if (!isStr(o.slot) || !SLOT_NAME.test(o.slot)) return fail('slot', 'a slot name like "a"');
  if (expectedSlot !== undefined && o.slot !== expectedSlot)
    return fail('slot', `"${expectedSlot}" (the file's name)`);
  if (!isStr(o.version)) return fail('version', 'a non-empty string');
  if (o.mode !== 'slot' && o.mode !== 'binary') return fail('mode', '"slot" or "binary"');
  if (typeof o.state !== 'string' || !(SLOT_STATES as readonly string[]).includes(o.state))
    return fail('state', `one of ${SLOT_STATES.join(', ')}`);
  if (o.role !== 'successor' && o.role !== 'standby') return fail('role', '"successor" or "standby"');
  for (const f of ['pid', 'startedAtMs', 'updatedAtMs'] as const)
    if (!isInt(o[f])) return fail(f, 'a non-negative integer');
  if (!isStr(o.instance)) return fail('instance', 'a non-empty string');
  for (const f of [
    'announcedAtMs',
    'lockAcquiredAtMs',
    'listeningAtMs',
    'servingAtMs',
    'drainStartedAtMs',
    'releasedAtMs',
  ] as const) {
    if (o[f] !== undefined && !isInt(o[f])) return fail(f, 'a non-negative integer when present');
  }
  if (o.successor !== undefined && !isStr(o.successor)) return fail('successor', 'a slot name when present');
  for (const f of ['runningVersion', 'error'] as const) {
    if (o[f] !== undefined && typeof o[f] !== 'string') return fail(f, 'a string when present');
  }
  if (o.handover !== undefined && !isHandover(o.handover))
    return fail('handover', 'a handover record ({from, to, noticeMs, drainMs, takeoverMs, totalMs, atMs})');
  if (o.rejected !== undefined && !(Array.isArray(o.rejected) && o.rejected.every(isStr)))
    return fail('rejected', 'a list of "slot@version" strings');
  return { ok: true, file: raw as VersionFile };
}

export function slotFilePath(dir: string, slot: string): string {
  return path.join(dir, PATHS.slotsDir, slot + PATHS.versionSuffix);
}

export function aliveFilePath(dir: string, slot: string): string {
  return path.join(dir, PATHS.slotsDir, slot + PATHS.aliveSuffix);
}

/** Replaces the version file atomically, so a reader sees the old or the new file, never half of one. */
export function writeVersionFile(dir: string, file: VersionFile): void {
  const target = slotFilePath(dir, file.slot);
  const tmp = `${target}.${file.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, JSON.stringify(file) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
}

export type ReadResult =
  { kind: 'missing' } | { kind: 'malformed'; error: string } | { kind: 'ok'; file: VersionFile };

export function readVersionFile(dir: string, slot: string): ReadResult {
  let text: string;
  let fd: number | undefined;
  try {
    // Read at most the limit + 1 byte: a huge file is malformed, and must not be read in full on every rescan.
    fd = fs.openSync(slotFilePath(dir, slot), 'r');
    const buf = Buffer.alloc(DEFAULTS.maxVersionFileBytes + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n > DEFAULTS.maxVersionFileBytes) {
      return { kind: 'malformed', error: `file is larger than ${DEFAULTS.maxVersionFileBytes} bytes` };
    }
    text = buf.toString('utf8', 0, n);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'malformed', error: `cannot read: ${(err as Error).message}` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const parsed = parseVersionFile(text, slot);
  return parsed.ok ? { kind: 'ok', file: parsed.file } : { kind: 'malformed', error: parsed.error };
}

/** Slot names that have a version file or a liveness file in the volume. */
export function listSlots(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dir, PATHS.slotsDir));
  } catch {
    return [];
  }
  const slots = new Set<string>();
  for (const n of names) {
    for (const suffix of [PATHS.versionSuffix, PATHS.aliveSuffix]) {
      if (n.endsWith(suffix)) {
        const s = n.slice(0, -suffix.length);
        if (SLOT_NAME.test(s)) slots.add(s);
      }
    }
  }
  return [...slots].sort();
}
