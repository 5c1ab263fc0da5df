import { describe, expect, it } from 'vitest';
import { normalizeImage, sameImage, versionOf } from './images.ts';

describe('versionOf', () => {
  it.each([
    ['hotupgrade.local/demo:v2', 'v2'],
    ['registry:5000/team/app:1.4.0', '1.4.0'],
    ['registry:5000/team/app', 'latest'],
    ['app', 'latest'],
    ['app@sha256:0123456789abcdef0123', 'sha256-0123456789ab'],
  ])('the version of %s is %s', (image, version) => {
    expect(versionOf(image)).toBe(version);
  });
});

describe('sameImage', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest', true],
    ['team/app:v1', 'docker.io/team/app:v1', true],
    ['hotupgrade.local/demo:v1', 'hotupgrade.local/demo:v1', true],
    ['hotupgrade.local/demo:v1', 'hotupgrade.local/demo:v2', false],
    ['localhost/app', 'localhost/app:latest', true],
  ])('%s and %s are the same image: %s', (a, b, same) => {
    expect(sameImage(a, b)).toBe(same);
  });

  it('keeps a registry with a port', () => {
    expect(normalizeImage('registry:5000/app')).toBe('registry:5000/app:latest');
  });
});
