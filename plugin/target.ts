// The object a command acts on, as kubectl spells it: `hotdeployment/web`, `hd/web`,
// `hotrelease/r1`, `hr/r1`. Pure.
import { KIND, PLURAL } from '../controller/constants.ts';
import { HOT_RELEASE } from '../hub/constants.ts';

export type TargetKind = 'HotDeployment' | 'HotRelease';

export interface Target {
  kind: TargetKind;
  name: string;
}

/** Every spelling of each kind kubectl accepts (the CRDs' names; target.test.ts checks them against the CRD). */
export const KIND_NAMES: Record<
  TargetKind,
  { singular: string; plural: string; shortNames: readonly string[] }
> = {
  HotDeployment: { singular: 'hotdeployment', plural: PLURAL, shortNames: ['hd', 'hotdeploy'] },
  HotRelease: {
    singular: HOT_RELEASE.singular,
    plural: HOT_RELEASE.plural,
    shortNames: HOT_RELEASE.shortNames,
  },
};

/** hotdeployment -> HotDeployment, for every spelling, with or without `.hotupgrade.io`. */
function kindOf(word: string): TargetKind | undefined {
  const w = word.toLowerCase().replace(/\.hotupgrade\.io$/, '');
  for (const [kind, n] of Object.entries(KIND_NAMES) as [TargetKind, (typeof KIND_NAMES)[TargetKind]][]) {
    if (w === kind.toLowerCase() || w === n.singular || w === n.plural || n.shortNames.includes(w))
      return kind;
  }
  return undefined;
}

// A DNS-1123 subdomain, as the API server checks object names.
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type TargetResult = { ok: true; target: Target } | { ok: false; message: string };

/** Parses `KIND/NAME`; `kinds` are those the command takes. */
export function parseTarget(raw: string, kinds: readonly TargetKind[]): TargetResult {
  const spellings = kinds.map((k) => `${KIND_NAMES[k].shortNames[0]}/NAME`).join(' or ');
  const slash = raw.indexOf('/');
  if (slash < 0) {
    const guess = NAME.test(raw) ? `did you mean ${KIND_NAMES[kinds[0] ?? KIND].shortNames[0]}/${raw}? ` : '';
    return { ok: false, message: `"${raw}" names no kind: ${guess}(write ${spellings})` };
  }
  const kind = kindOf(raw.slice(0, slash));
  const name = raw.slice(slash + 1);
  if (!kind) {
    return {
      ok: false,
      message: `"${raw.slice(0, slash)}" is not a kind this plugin knows; write ${spellings} (also the long forms hotdeployment/NAME, hotrelease/NAME)`,
    };
  }
  if (!kinds.includes(kind)) {
    return { ok: false, message: `this command takes ${spellings}, not a ${kind}` };
  }
  if (name.length === 0 || name.length > 253 || !NAME.test(name)) {
    return {
      ok: false,
      message: `"${name}" is not a valid name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit`,
    };
  }
  return { ok: true, target: { kind, name } };
}

/** `hotdeployment/web`: how output names an object (kubectl's style). */
export function targetString(t: Target): string {
  return `${KIND_NAMES[t.kind].singular}/${t.name}`;
}
