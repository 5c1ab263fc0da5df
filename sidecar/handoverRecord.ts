// The `handover` record inside a version file is written by the new server and read
// here to feed metrics. sdk/versionFile.ts does not validate it (nor `runningVersion`
// and `error`), so a record with wrong types must not reach a histogram or a label.
import type { HandoverRecord, VersionFile } from '../sdk/versionFile.ts';
import type { VolumeView } from '../sdk/volume.ts';

const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isEnd = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Record<string, unknown>).slot === 'string' &&
  typeof (v as Record<string, unknown>).version === 'string';

/** True when `v` has every field of a HandoverRecord with the right type (durations in ms, >= 0). */
export function isHandoverRecord(v: unknown): v is HandoverRecord {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    isEnd(o.from) &&
    isEnd(o.to) &&
    isMs(o.noticeMs) &&
    isMs(o.drainMs) &&
    isMs(o.takeoverMs) &&
    isMs(o.totalMs) &&
    isMs(o.atMs)
  );
}

/** Identity of one handover: the process that wrote it and when it started serving. */
export const handoverKey = (f: Pick<VersionFile, 'slot' | 'instance'>, r: HandoverRecord): string =>
  `${f.slot}/${f.instance}/${r.atMs}`;

/** The file's handover record when it is well-formed. */
export function validHandover(f: VersionFile): HandoverRecord | undefined {
  return isHandoverRecord(f.handover) ? f.handover : undefined;
}

/** The most recent well-formed handover record in any slot's file, dead or alive. */
export function latestHandover(view: VolumeView): HandoverRecord | undefined {
  let latest: HandoverRecord | undefined;
  for (const s of view.slots) {
    const r = s.file ? validHandover(s.file) : undefined;
    if (r && (!latest || r.atMs > latest.atMs)) latest = r;
  }
  return latest;
}

/** Successor's wait for the active lock (announced -> lock acquired), in ms, when both are known. */
export function lockWaitMs(f: VersionFile): number | undefined {
  const { announcedAtMs: a, lockAcquiredAtMs: l } = f;
  return isMs(a) && isMs(l) && l >= a ? l - a : undefined;
}

/** A string field of a version file the SDK does not validate, or undefined if it is not a string. */
export const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The version a slot runs: the staged one in binary mode, else its image's. */
export const runningVersionOf = (f: VersionFile): string => optionalString(f.runningVersion) ?? f.version;
