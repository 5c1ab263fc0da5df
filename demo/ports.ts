import net from 'node:net';

/**
 * A port free on `host` right now: listen on 0, read it, close. Ports are only reserved
 * by binding, so another process may take it first; the kernel's ephemeral allocator
 * makes that unlikely.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, resolve);
  });
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
