// Generated files checked into the repository (CRDs, dashboard, alert rules): one way to
// tell which are missing or differ from what their generator writes.
import { readFileSync } from 'node:fs';

/** The file's text, or undefined when it cannot be read. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Paths of the files that are missing or differ from `text`. */
export function stalePaths(files: { path: string; text: string }[]): string[] {
  return files.filter((f) => readText(f.path) !== f.text).map((f) => f.path);
}
