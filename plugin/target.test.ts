import { describe, expect, it } from 'vitest';
import { hotDeploymentCrdManifest } from '../controller/api/crd.ts';
import { HOT_RELEASE } from '../hub/constants.ts';
import { KIND_NAMES, parseTarget, targetString } from './target.ts';

const BOTH = ['HotDeployment', 'HotRelease'] as const;

describe('parseTarget', () => {
  it.each([
    ['hd/web', 'HotDeployment'],
    ['hotdeployment/web', 'HotDeployment'],
    ['hotdeployments/web', 'HotDeployment'],
    ['hotdeploy/web', 'HotDeployment'],
    ['HotDeployment/web', 'HotDeployment'],
    ['hotdeployment.hotupgrade.io/web', 'HotDeployment'],
    ['hr/web', 'HotRelease'],
    ['hotrel/web', 'HotRelease'],
    ['hotrelease/web', 'HotRelease'],
    ['hotreleases.hotupgrade.io/web', 'HotRelease'],
  ])('reads %s as a %s named web', (raw, kind) => {
    expect(parseTarget(raw, BOTH)).toEqual({ ok: true, target: { kind, name: 'web' } });
  });

  it.each([
    ['web', 'did you mean hd/web?'],
    ['deployment/web', '"deployment" is not a kind this plugin knows'],
    ['hd/', '"" is not a valid name'],
    ['hd/Web', '"Web" is not a valid name'],
    ['hd/web_1', '"web_1" is not a valid name'],
    ['hd/-web', '"-web" is not a valid name'],
  ])('refuses %s, saying %s', (raw, words) => {
    const r = parseTarget(raw, BOTH);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toContain(words);
  });

  it('refuses a kind the command does not take, naming the ones it does', () => {
    const r = parseTarget('hr/web', ['HotDeployment']);
    expect(r).toEqual({ ok: false, message: 'this command takes hd/NAME, not a HotRelease' });
  });

  it('prints targets as kubectl does', () => {
    expect(targetString({ kind: 'HotDeployment', name: 'web' })).toBe('hotdeployment/web');
    expect(targetString({ kind: 'HotRelease', name: 'r1' })).toBe('hotrelease/r1');
  });
});

describe('the spellings', () => {
  it('are the HotDeployment CRD names', () => {
    const n = hotDeploymentCrdManifest().spec.names;
    expect(KIND_NAMES.HotDeployment).toEqual({
      singular: n.singular,
      plural: n.plural,
      shortNames: n.shortNames,
    });
  });

  it('are the HotRelease names of the hub', () => {
    expect(KIND_NAMES.HotRelease).toEqual({
      singular: HOT_RELEASE.singular,
      plural: HOT_RELEASE.plural,
      shortNames: HOT_RELEASE.shortNames,
    });
  });
});
