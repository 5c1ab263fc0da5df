// One structured log line per transition: level, fields and a sentence a person on call
// can act on. Pure, so the wording is tested beside it.
import { slotFilePath } from '../sdk/versionFile.ts';
import type { Summary } from '../sdk/handover.ts';
import type { Transition } from './diff.ts';
import { PLACEHOLDER_WORDS } from './readiness.ts';

export type Level = 'info' | 'warn' | 'error';

export interface LogLine {
  level: Level;
  fields: Record<string, unknown>;
  msg: string;
}

const processWords = (t: { version: string; state: string }): string =>
  t.state === 'placeholder' ? PLACEHOLDER_WORDS : `version ${t.version}, ${t.state}`;

const who = (s: Summary): string => (s.activeSlot ? `slot "${s.activeSlot}" (${s.activeVersion})` : 'nobody');

function describeSummary(from: Summary | null, to: Summary): LogLine {
  const fields = { event: 'summary', ...to };
  if (!to.serving) {
    const msg =
      to.phase !== 'takeover'
        ? 'nobody serves: no live slot holds the active lock and says it serves'
        : to.successorSlot
          ? `handover: between release and takeover; slot "${to.successorSlot}" is taking over`
          : 'handover: nobody serves for the moment; a live slot is about to take the active lock';
    return { level: to.phase === 'takeover' ? 'info' : 'warn', fields, msg };
  }
  if (from?.activeSlot !== to.activeSlot || from?.activeVersion !== to.activeVersion || !from.serving) {
    return { level: 'info', fields, msg: `serving: ${who(to)}, handover phase ${to.phase}` };
  }
  const toward = to.successorSlot ? ` toward slot "${to.successorSlot}"` : '';
  return { level: 'info', fields, msg: `handover phase ${to.phase}${toward}; ${who(to)} serves` };
}

/** The log line for one transition; `dir` is the shared volume, to name files. */
export function describe(t: Transition, dir: string): LogLine {
  switch (t.kind) {
    case 'process':
      return {
        level: 'info',
        fields: {
          event: t.kind,
          slot: t.slot,
          version: t.version,
          instance: t.instance,
          state: t.state,
          alive: t.alive,
        },
        msg: t.restarted
          ? `slot "${t.slot}": new process, ${processWords(t)}${t.alive ? '' : ' (already dead)'}`
          : `slot "${t.slot}": ${processWords(t)}${t.alive ? '' : ' (process dead)'}`,
      };
    case 'state':
      return {
        level: 'info',
        fields: { event: t.kind, slot: t.slot, version: t.version, from: t.from, to: t.to },
        msg: `slot "${t.slot}" (${t.version}): ${t.from} -> ${t.to}`,
      };
    case 'alive':
      return {
        level: t.alive || t.lastState === 'stopped' ? 'info' : 'warn',
        fields: { event: t.kind, slot: t.slot, alive: t.alive, lastState: t.lastState },
        msg: t.alive
          ? `slot "${t.slot}": process is alive`
          : `slot "${t.slot}": process is gone (last state ${t.lastState ?? 'unknown'})`,
      };
    case 'problem': {
      const file = slotFilePath(dir, t.slot);
      // A live process holds its liveness lock a moment before it writes its first
      // version file: that moment is normal, not worth a warning.
      const starting = !t.malformed && t.alive;
      return {
        level: starting ? 'info' : 'warn',
        fields: { event: t.kind, slot: t.slot, file, problem: t.problem },
        msg: `slot "${t.slot}": version file ${file} is unusable: ${t.problem}`,
      };
    }
    case 'problem-cleared':
      return {
        level: 'info',
        fields: { event: t.kind, slot: t.slot, file: slotFilePath(dir, t.slot) },
        msg: `slot "${t.slot}": version file is readable again`,
      };
    case 'removed':
      return {
        level: 'info',
        fields: { event: t.kind, slot: t.slot },
        msg: `slot "${t.slot}": its files are gone from the shared volume`,
      };
    case 'handover': {
      const r = t.record;
      return {
        level: 'info',
        fields: { event: t.kind, slot: t.slot, handover: r, lockWaitMs: t.lockWaitMs },
        msg:
          `handover ${r.from.slot}(${r.from.version}) -> ${r.to.slot}(${r.to.version}) in ${r.totalMs} ms ` +
          `(notice ${r.noticeMs} ms, drain ${r.drainMs} ms, takeover ${r.takeoverMs} ms)`,
      };
    }
    case 'failed':
      return {
        level: 'error',
        fields: { event: t.kind, slot: t.slot, version: t.version, error: t.error },
        msg: `slot "${t.slot}" (${t.version}) failed: ${t.error ?? 'no error given'}`,
      };
    case 'rejected':
      return {
        level: 'warn',
        fields: { event: t.kind, slot: t.slot, rejected: t.entry },
        msg: `slot "${t.slot}" rejected ${t.entry}: its process died in probation; no more handovers to it`,
      };
    case 'summary':
      return describeSummary(t.from, t.to);
  }
}
