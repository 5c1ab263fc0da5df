// Fixture builders for tests (here and in other packages' tests).
import type { VersionFile } from './versionFile.ts';

export function makeFile(over: Partial<VersionFile> = {}): VersionFile {
  return {
    protocol: 1,
    slot: 'a',
    version: 'v1',
    mode: 'slot',
    state: 'serving',
    role: 'successor',
    pid: 42,
    instance: 'i-1',
    startedAtMs: 1_000,
    updatedAtMs: 2_000,
    ...over,
  };
}
