// Binary mode's staging area: binaries/<version>/ in the shared volume, complete once
// its manifest.json exists (the stager renames a finished temporary directory into
// place, so a half-copied tree is never seen under the final name).
import fs from 'node:fs';
import path from 'node:path';
import { PATHS, PROTOCOL_VERSION } from '../sdk/constants.ts';

export interface Manifest {
  protocol: number;
  version: string;
  /** argv to run, resolved in the staged directory; "node" means the launcher's own Node. */
  command: string[];
  stagedAtMs: number;
}

const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function parseManifest(text: string): { ok: true; manifest: Manifest } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `manifest is not valid JSON (${(err as Error).message})` };
  }
  const m = raw as Partial<Manifest> | null;
  if (!m || typeof m !== 'object') return { ok: false, error: 'manifest must be a JSON object' };
  if (m.protocol !== PROTOCOL_VERSION)
    return { ok: false, error: `manifest field "protocol" must be ${PROTOCOL_VERSION}` };
  if (typeof m.version !== 'string' || !VERSION_NAME.test(m.version))
    return { ok: false, error: 'manifest field "version" must be a version name' };
  if (!Array.isArray(m.command) || m.command.length === 0 || !m.command.every((c) => typeof c === 'string')) {
    return { ok: false, error: 'manifest field "command" must be a non-empty list of strings' };
  }
  if (typeof m.stagedAtMs !== 'number')
    return { ok: false, error: 'manifest field "stagedAtMs" must be a number' };
  return { ok: true, manifest: m as Manifest };
}

export function binariesDir(dir: string): string {
  return path.join(dir, PATHS.binariesDir);
}

/** Every complete staged version, newest staging first; incomplete or malformed trees are skipped. */
export function listStaged(dir: string): Array<{ dir: string; manifest: Manifest }> {
  let names: string[];
  try {
    names = fs.readdirSync(binariesDir(dir));
  } catch {
    return [];
  }
  const out: Array<{ dir: string; manifest: Manifest }> = [];
  for (const n of names) {
    if (!VERSION_NAME.test(n)) continue;
    const d = path.join(binariesDir(dir), n);
    try {
      const r = parseManifest(fs.readFileSync(path.join(d, PATHS.manifest), 'utf8'));
      if (r.ok && r.manifest.version === n) out.push({ dir: d, manifest: r.manifest });
    } catch {
      // not complete yet
    }
  }
  return out.sort((a, b) => b.manifest.stagedAtMs - a.manifest.stagedAtMs);
}

/** Copies `from` into binaries/<version>/ atomically and returns the manifest written. */
export function stage(dir: string, from: string, version: string, command: string[], now: number): Manifest {
  if (!VERSION_NAME.test(version))
    throw new Error(`version "${version}" cannot name a directory; use letters, digits, ".", "_" or "-"`);
  if (!fs.statSync(from, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`--from ${from} is not a directory`);
  const root = binariesDir(dir);
  fs.mkdirSync(root, { recursive: true });
  const tmp = path.join(root, `.tmp-${version}-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(from, tmp, { recursive: true, dereference: false, preserveTimestamps: true });
  const manifest: Manifest = { protocol: PROTOCOL_VERSION, version, command, stagedAtMs: now };
  fs.writeFileSync(path.join(tmp, PATHS.manifest), JSON.stringify(manifest, null, 2) + '\n');
  const final = path.join(root, version);
  if (fs.existsSync(final)) {
    // Re-staging a version (a rollback to it): move the old tree aside first, then replace.
    const aside = path.join(root, `.old-${version}-${process.pid}`);
    fs.renameSync(final, aside);
    fs.renameSync(tmp, final);
    fs.rmSync(aside, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, final);
  }
  return manifest;
}
