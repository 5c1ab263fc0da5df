// CPU time and resident memory of a process, from /proc (Linux): what the benchmarks
// report for the processes they start.
import { readFileSync } from 'node:fs';

/** User + system CPU time of a process, in s (from /proc/<pid>/stat; clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident set size of a process, in MB; 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
