import { describe, expect, it } from 'vitest';
import { ANNOTATIONS, ENV } from '../../controller/constants.ts';
import { expand, fieldValue, hostPath, resolveEnv } from './env.ts';
import { slotPod } from './fixtures.ts';
import { processEnv } from './processRuntime.ts';
import type { Pod } from './wire.ts';

const pod: Pod = {
  metadata: {
    name: 'demo-0',
    namespace: 'ns',
    uid: 'u-1',
    labels: { app: 'demo' },
    annotations: { [ANNOTATIONS.version('b')]: 'v2' },
  },
  spec: { containers: [], serviceAccountName: 'sa' },
};
const src = { pod, podIP: '127.9.0.1', hostIP: '127.0.0.1', nodeName: 'n1' };

describe('fieldValue (downward API)', () => {
  it.each([
    [`metadata.annotations['${ANNOTATIONS.version('b')}']`, 'v2'],
    [`metadata.annotations["${ANNOTATIONS.version('b')}"]`, 'v2'],
    [`metadata.annotations['${ANNOTATIONS.version('a')}']`, ''],
    ["metadata.labels['app']", 'demo'],
    ['metadata.name', 'demo-0'],
    ['metadata.namespace', 'ns'],
    ['metadata.uid', 'u-1'],
    ['spec.nodeName', 'n1'],
    ['spec.serviceAccountName', 'sa'],
    ['status.podIP', '127.9.0.1'],
    ['status.hostIP', '127.0.0.1'],
    ['metadata.generation', undefined],
  ])('%s is %j', (path, value) => {
    expect(fieldValue(path, src)).toBe(value);
  });
});

describe('expand ($(VAR) as Kubernetes does)', () => {
  it.each([
    ['$(A)/x', '1/x'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['a$', 'a$'],
    ['$(A', '$(A'],
  ])('%s -> %s', (input, out) => {
    expect(expand(input, { A: '1' })).toBe(out);
  });
});

describe('resolveEnv', () => {
  it('resolves in order and reports what it cannot', () => {
    const r = resolveEnv(
      {
        name: 'c',
        image: 'i',
        env: [
          { name: 'A', value: 'x' },
          { name: 'B', value: '$(A)-y' },
          { name: 'C', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
      },
      src,
    );
    expect(r.env).toEqual({ A: 'x', B: 'x-y', C: '' });
    expect(r.unsupported).toEqual(['C (secretKeyRef)']);
  });
});

describe('hostPath', () => {
  it('maps a path inside a mount, not a mere prefix', () => {
    const mounts = [{ mountPath: '/hotupgrade', hostDir: '/tmp/v' }];
    expect(hostPath('/hotupgrade', mounts)).toBe('/tmp/v');
    expect(hostPath('/hotupgrade/slots', mounts)).toBe('/tmp/v/slots');
    expect(hostPath('/hotupgrade2', mounts)).toBeUndefined();
  });
});

describe('processEnv (the process runtime)', () => {
  const p = slotPod('demo-0', 'ns');
  const sandbox = {
    podIP: '127.9.0.1',
    dir: '/tmp/pod',
    shmDir: '/dev/shm/sim/pod/dev-shm',
    volumes: new Map([
      ['hotupgrade', '/tmp/pod/volumes/hotupgrade'],
      ['hotupgrade-shm', '/dev/shm/sim/pod/hotupgrade-shm'],
    ]),
  };
  const start = (
    name: string,
    run: { argv: string[]; env?: Record<string, string> } = { argv: ['node', 'x.ts'] },
  ) =>
    processEnv({
      pod: p,
      container: p.spec.containers.find((c) => c.name === name) ?? { name, image: 'none' },
      run,
      sandbox,
      hostIP: '127.0.0.1',
      nodeName: 'n1',
      restartCount: 0,
    });

  it('gives a slot its volumes, its listen address and its version from the annotations', () => {
    const { env, argv } = start('app-b');
    expect(env[ENV.dir]).toBe('/tmp/pod/volumes/hotupgrade');
    expect(env[ENV.shmDir]).toBe('/dev/shm/sim/pod/hotupgrade-shm');
    expect(env[ENV.listen]).toBe('127.9.0.1:8080');
    expect(env[ENV.slot]).toBe('b');
    expect(env[ENV.version]).toBe('');
    expect(env[ENV.activeSlot]).toBe('a');
    expect(argv[0]).toBe(process.execPath);
  });

  it('gives the sidecar its host and port, not a listen address', () => {
    const { env } = start('hotupgrade-sidecar');
    expect(env.HOTUPGRADE_SIDECAR_HOST).toBe('127.9.0.1');
    expect(env.HOTUPGRADE_SIDECAR_PORT).toBe('9901');
    expect(env.POD_NAME).toBe('demo-0');
    expect(env[ENV.listen]).toBeUndefined();
    expect(env[ENV.shmDir]).toBe('/dev/shm/sim/pod/dev-shm');
  });

  it('lets the catalog override and expand', () => {
    const { env, argv } = start('app-a', {
      argv: ['node', '$(HOTUPGRADE_DIR)/x'],
      env: { [ENV.listen]: '$(POD_IP):1' },
    });
    expect(env[ENV.listen]).toBe('$(POD_IP):1');
    expect(argv[1]).toBe('/tmp/pod/volumes/hotupgrade/x');
  });
});
