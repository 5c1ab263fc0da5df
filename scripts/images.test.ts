import { describe, expect, it } from 'vitest';
import {
  imageRefs,
  imageSpecs,
  imagesShArgs,
  parseBuildTimes,
  parseCli,
  parseInfo,
  selectImages,
  archiveName,
} from './images.ts';

describe('imageSpecs', () => {
  it('names every image under the registry, the demo ones with fixed tags', () => {
    expect(imageSpecs('hotupgrade.local', 'dev').map((s) => `${s.target} ${s.ref}`)).toEqual([
      'controller hotupgrade.local/controller:dev',
      'sidecar hotupgrade.local/sidecar:dev',
      'placeholder hotupgrade.local/placeholder:dev',
      'demo hotupgrade.local/demo:v1',
      'demo hotupgrade.local/demo:v2',
      'demo hotupgrade.local/demo:v3',
      'demo-crash hotupgrade.local/demo:crash',
      'demo-binary hotupgrade.local/demo-binary:v1',
      'demo-binary hotupgrade.local/demo-binary:v2',
      'demo-binary hotupgrade.local/demo-binary:v3',
    ]);
  });

  it('gives each demo build its own DEMO_BUILD, so the images differ', () => {
    const demo = imageSpecs().filter((s) => s.target.startsWith('demo'));
    expect(demo.map((s) => s.buildArgs.DEMO_BUILD)).toEqual(['v1', 'v2', 'v3', 'crash', 'v1', 'v2', 'v3']);
  });

  it('agrees with imageRefs', () => {
    const refs = imageRefs('localhost:5000/team', 'v0.1.0');
    const specs = imageSpecs('localhost:5000/team', 'v0.1.0');
    expect(specs.map((s) => s.ref)).toEqual([
      refs.controller,
      refs.sidecar,
      refs.placeholder,
      refs.demo.v1,
      refs.demo.v2,
      refs.demo.v3,
      refs.demo.crash,
      refs.demoBinary.v1,
      refs.demoBinary.v2,
      refs.demoBinary.v3,
    ]);
  });

  it.each([
    ['an uppercase registry', 'Registry.local', 'dev', /--registry must be a lowercase/],
    ['a registry with a trailing slash', 'reg.local/', 'dev', /--registry/],
    ['a tag starting with a dot', 'reg.local', '.dev', /--tag must be/],
    ['a tag with a colon', 'reg.local', 'a:b', /--tag must be/],
  ])('refuses %s', (_what, registry, tag, message) => {
    expect(() => imageSpecs(registry, tag)).toThrow(message);
  });
});

describe('selectImages', () => {
  const specs = imageSpecs();
  it.each([
    [undefined, 10],
    [[], 10],
    [['controller'], 1],
    [['demo'], 4],
    [['demo:v2', 'sidecar'], 2],
    [['demo-binary'], 3],
  ])('only %j selects %i images', (only, n) => {
    expect(selectImages(specs, only)).toHaveLength(n);
  });

  it('names the images there are when asked for one that is not', () => {
    expect(() => selectImages(specs, ['operator'])).toThrow(
      /no image "operator"; the images are controller, /,
    );
  });
});

describe('imagesShArgs', () => {
  const specs = selectImages(imageSpecs(), ['controller', 'demo:v1']);

  it('builds the bases, then each target with network and build args, then imports and saves', () => {
    expect(
      imagesShArgs(specs, { containerdSocket: '/run/c.sock', archive: '/out/all.tar', context: '/repo' }),
    ).toEqual([
      '--containerd',
      '/run/c.sock',
      'base-node',
      'info',
      'node:24-bookworm-slim',
      'info',
      'gcr.io/distroless/nodejs24-debian12:nonroot',
      ...['build', '--network', 'host', '--target', 'controller', '--build-arg', 'VERSION=dev'],
      ...['hotupgrade.local/controller:dev', '/repo', 'info', 'hotupgrade.local/controller:dev'],
      ...['build', '--network', 'host', '--target', 'demo', '--build-arg', 'VERSION=v1'],
      ...[
        '--build-arg',
        'DEMO_BUILD=v1',
        'hotupgrade.local/demo:v1',
        '/repo',
        'info',
        'hotupgrade.local/demo:v1',
      ],
      ...['import', 'hotupgrade.local/controller:dev,hotupgrade.local/demo:v1'],
      ...['save', 'hotupgrade.local/controller:dev,hotupgrade.local/demo:v1', '/out/all.tar'],
    ]);
  });

  it('neither imports nor saves when given nowhere to put the images', () => {
    const args = imagesShArgs(specs, { context: '/repo' });
    expect(args).not.toContain('import');
    expect(args).not.toContain('save');
    expect(args).not.toContain('--containerd');
  });
});

describe('images.sh output', () => {
  it('reads the info lines and ignores anything else', () => {
    const info = parseInfo('hotupgrade.local/demo:v1\tsha256:abc\t178762839\nnoise\n');
    expect([...info]).toEqual([['hotupgrade.local/demo:v1', { id: 'sha256:abc', sizeBytes: 178762839 }]]);
  });

  it('reads the build times from the log lines', () => {
    const lines = ['[cluster 0m26s] docker build x:1 from .', '[cluster 0m26s] built x:1 in 170 ms'];
    expect([...parseBuildTimes(lines)]).toEqual([['x:1', 170]]);
  });

  it('names the archive after the tag', () => {
    expect(archiveName('v0.1.0')).toBe('hotupgrade-images-v0.1.0.tar');
  });
});

describe('parseCli', () => {
  it('maps the flags onto the options', () => {
    expect(
      parseCli([
        '--registry',
        'r.local',
        '--tag',
        't',
        '--containerd',
        '/s',
        '--save',
        'out',
        '--only',
        'demo,sidecar',
      ]),
    ).toEqual({
      registry: 'r.local',
      tag: 't',
      containerdSocket: '/s',
      saveDir: 'out',
      only: ['demo', 'sidecar'],
    });
  });

  it('answers help', () => {
    expect(parseCli(['-h'])).toBe('help');
  });

  it('refuses an unknown flag', () => {
    expect(() => parseCli(['--push'])).toThrow(/--push/);
  });
});
