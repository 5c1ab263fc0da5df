// Certificates for a cluster, made with openssl: one CA, serving certs and client certs
// (CN = user, O = group, which is how the API server authenticates x509 clients).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.ts';

export interface CertSpec {
  name: string;
  cn: string;
  org?: string;
  // Subject alternative names for serving certs: IPs and DNS names.
  ips?: string[];
  dns?: string[];
}

export interface Pki {
  dir: string;
  ca: string;
  caKey: string;
  cert(name: string): string;
  key(name: string): string;
}

function ext(spec: CertSpec): string {
  const san = [...(spec.ips ?? []).map((ip) => `IP:${ip}`), ...(spec.dns ?? []).map((d) => `DNS:${d}`)];
  const usage = san.length ? 'serverAuth,clientAuth' : 'clientAuth';
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${usage}`,
    ...(san.length ? [`subjectAltName=${san.join(',')}`] : []),
  ].join('\n');
}

// EC P-256 keys: generated in milliseconds, which keeps a control plane start fast.
async function ecKey(path: string): Promise<void> {
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

export async function makePki(dir: string, specs: CertSpec[]): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  const p = (f: string): string => join(dir, f);
  await ecKey(p('ca.key'));
  await run('openssl', [
    'req', '-x509', '-new', '-key', p('ca.key'), '-sha256', '-days', '3650',
    '-subj', '/CN=hotupgrade-test-ca', '-out', p('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]); // prettier-ignore
  // Service account token signing key (no certificate needed).
  await ecKey(p('sa.key'));
  await run('openssl', ['pkey', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  await Promise.all(
    specs.map(async (s) => {
      await ecKey(p(`${s.name}.key`));
      const subj = `${s.org ? `/O=${s.org}` : ''}/CN=${s.cn}`;
      await run('openssl', [
        'req',
        '-new',
        '-key',
        p(`${s.name}.key`),
        '-subj',
        subj,
        '-out',
        p(`${s.name}.csr`),
      ]);
      writeFileSync(p(`${s.name}.ext`), ext(s));
      await run('openssl', [
        'x509', '-req', '-in', p(`${s.name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
        // Random serials: a shared serial file would race between the parallel signings.
        '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-sha256', '-days', '3650', '-extfile', p(`${s.name}.ext`),
        '-out', p(`${s.name}.crt`),
      ]); // prettier-ignore
    }),
  );
  return {
    dir,
    ca: p('ca.crt'),
    caKey: p('ca.key'),
    cert: (n) => p(`${n}.crt`),
    key: (n) => p(`${n}.key`),
  };
}

// A kubeconfig with the certificates embedded, so it can be copied elsewhere as one file.
export function writeKubeconfig(path: string, pki: Pki, server: string, user: string, cluster: string): void {
  const b64 = (f: string): string => readFileSync(f).toString('base64');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: ${cluster}
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(pki.ca)}
users:
- name: ${user}
  user:
    client-certificate-data: ${b64(pki.cert(user))}
    client-key-data: ${b64(pki.key(user))}
contexts:
- name: ${cluster}
  context:
    cluster: ${cluster}
    user: ${user}
current-context: ${cluster}
`,
    { mode: 0o600 },
  );
}
