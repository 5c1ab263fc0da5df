// promtool (Debian's `prometheus` package) as a child process, for the tests: it is
// Prometheus's own parser and rule evaluator, so "promtool accepts it" means Prometheus
// will. Tests skip, saying so, where it is not installed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

/** Why promtool tests cannot run here, or undefined when they can. */
export function promtoolMissing(): string | undefined {
  if (existsSync(PROMTOOL)) return undefined;
  const msg = `${PROMTOOL} is missing: apt-get install prometheus (or set PROMTOOL) to run the promtool checks`;
  console.warn(`\nSKIPPING promtool checks: ${msg}\n`);
  return msg;
}

export interface PromtoolResult {
  code: number;
  /** stdout and stderr together, for assertion messages. */
  output: string;
}

/** Runs `promtool <args>`; resolves with its exit code (never rejects on a non-zero exit). */
export function promtool(args: string[], timeoutMs = 30_000): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? Number(err.code) : 0, output: `${stdout}${stderr}` });
    });
  });
}
