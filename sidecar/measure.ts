// Idle cost of a process, from /proc: resident memory and CPU share over a window. Used
// by the benchmark and by sidecar/README.md's numbers. Linux only.
import fs from 'node:fs';

/** /proc reports CPU time in clock ticks of USER_HZ, which Linux fixes at 100 per second. */
const TICKS_PER_SECOND = 100;

export interface IdleCost {
  /** Resident set size at the end of the window, in MiB. */
  rssMb: number;
  /** The anonymous (private) part of rssMb: heap, stacks, JIT code; the rest is file pages such as the node binary, shared with other processes. */
  anonRssMb: number;
  /** Peak resident set size of the process's life (VmHWM), in MiB. */
  peakRssMb: number;
  /** CPU (user + system) used during the window, in percent of one core. */
  cpuPct: number;
}

/** user + system CPU time of `pid`, in ticks, from /proc/<pid>/stat. */
export function cpuTicks(statText: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
  const rest = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** A "VmRSS:  12345 kB" style field of /proc/<pid>/status, in MiB. */
export function statusMb(statusText: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(statusText);
  if (!m?.[1]) throw new Error(`/proc status has no ${field} line`);
  return Number(m[1]) / 1024;
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

/** Watches `pid` for `seconds` and reports its RSS and CPU share over that window. */
export async function measureIdle(pid: number, seconds: number): Promise<IdleCost> {
  const stat = (): number => cpuTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const t0 = performance.now();
  const c0 = stat();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const c1 = stat();
  const elapsedS = (performance.now() - t0) / 1000;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rssMb: round(statusMb(status, 'VmRSS'), 1),
    anonRssMb: round(statusMb(status, 'RssAnon'), 1),
    peakRssMb: round(statusMb(status, 'VmHWM'), 1),
    cpuPct: round(((c1 - c0) / TICKS_PER_SECOND / elapsedS) * 100, 2),
  };
}
