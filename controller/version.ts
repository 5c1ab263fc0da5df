// The operator's version (package.json's), which its CRDs carry in the annotation
// hotupgrade.io/version: the hub reads it on a member to report what runs there.
import { readFileSync } from 'node:fs';

export const OPERATOR_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The annotation on each hotupgrade CRD that names the operator version that installed it. */
export const VERSION_ANNOTATION = 'hotupgrade.io/version';
