// Thin bindings to the few Linux system calls the protocol needs and Node does not
// expose: open-file-description (OFD) record locks, raw listening sockets with
// SO_REUSEPORT and a steering program, and mmap for shared memory. koffi ships
// prebuilt binaries in its npm package, so nothing is compiled at install time.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

// struct flock on Linux x86_64 and arm64 (glibc): short, short, off_t, off_t, pid_t.
const Flock = koffi.struct('hu_flock', {
  l_type: 'short',
  l_whence: 'short',
  l_start: 'int64',
  l_len: 'int64',
  l_pid: 'int',
});
interface FlockValue {
  l_type: number;
  l_whence: number;
  l_start: number;
  l_len: number;
  l_pid: number;
}

const SockFilter = koffi.struct('hu_sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' });
const SockFprog = koffi.struct('hu_sock_fprog', { len: 'uint16', filter: koffi.pointer(SockFilter) });
const SockaddrIn = koffi.struct('hu_sockaddr_in', {
  sin_family: 'uint16',
  sin_port: 'uint16', // network byte order
  sin_addr: 'uint32', // network byte order
  sin_zero: koffi.array('uint8', 8),
});

const fcntlLock = libc.func('int fcntl(int fd, int cmd, _Inout_ hu_flock *lk)');
const fcntlInt = libc.func('int fcntl(int fd, int cmd, int arg)');
const errnoLocation = libc.func('int *__errno_location()');
const strerror = libc.func('const char *strerror(int errnum)');
const socketFn = libc.func('int socket(int domain, int type, int protocol)');
const getsockoptBuf = libc.func(
  'int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *len)',
);
const setsockoptInt = libc.func('int setsockopt(int fd, int level, int name, _In_ int *value, uint32 len)');
const setsockoptProg = libc.func(
  'int setsockopt(int fd, int level, int name, _In_ hu_sock_fprog *value, uint32 len)',
);
const bindFn = libc.func('int bind(int fd, _In_ hu_sockaddr_in *addr, uint32 len)');
const listenFn = libc.func('int listen(int fd, int backlog)');
const closeFn = libc.func('int close(int fd)');
const exitFn = libc.func('void _exit(int status)');
const mmapFn = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64 off)');

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
export const F_RDLCK = 0;
export const F_WRLCK = 1;
const F_UNLCK = 2;
const EAGAIN = 11;
const EACCES = 13;
const EINTR = 4;

export class SyscallError extends Error {
  readonly errno: number;
  constructor(call: string, errno: number) {
    super(`${call}: ${strerror(errno)} (errno ${errno})`);
    this.errno = errno;
  }
}

function errno(): number {
  return koffi.decode(errnoLocation(), 'int') as number;
}

function check(call: string, rc: number): number {
  if (rc < 0) throw new SyscallError(call, errno());
  return rc;
}

function wholeFile(type: number): FlockValue {
  return { l_type: type, l_whence: 0, l_start: 0, l_len: 0, l_pid: 0 };
}

/** Takes an OFD lock on the whole file without waiting; false if another description holds a conflicting one. */
export function tryLock(fd: number, type: number): boolean {
  const rc = fcntlLock(fd, F_OFD_SETLK, wholeFile(type)) as number;
  if (rc === 0) return true;
  const e = errno();
  if (e === EAGAIN || e === EACCES) return false;
  throw new SyscallError('fcntl(F_OFD_SETLK)', e);
}

/**
 * Waits for an OFD lock on a koffi worker thread, so the event loop keeps running and
 * the wake-up is the kernel's, not a poll. The wait cannot be cancelled: a process that
 * stops wanting the lock exits, or keeps the promise and releases the lock when it lands.
 */
export function waitLock(fd: number, type: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      fcntlLock.async(fd, F_OFD_SETLKW, wholeFile(type), (err: unknown, rc: number) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        if (rc === 0) return resolve();
        const e = errno();
        if (e === EINTR) return attempt();
        reject(new SyscallError('fcntl(F_OFD_SETLKW)', e));
      });
    };
    attempt();
  });
}

export function unlock(fd: number): void {
  check('fcntl(F_OFD_SETLK, F_UNLCK)', fcntlLock(fd, F_OFD_SETLK, wholeFile(F_UNLCK)) as number);
}

/**
 * Asks the kernel whether a lock of `type` could be taken, without taking anything.
 * Returns the type of the conflicting lock someone holds, or null when nobody does.
 * This is how the sidecar stays read-only: it never competes for the lock.
 */
export function probeLock(fd: number, type: number): number | null {
  const lk = wholeFile(type);
  check('fcntl(F_OFD_GETLK)', fcntlLock(fd, F_OFD_GETLK, lk) as number);
  return lk.l_type === F_UNLCK ? null : lk.l_type;
}

/** Lets a descriptor survive exec/spawn into a child (Node opens everything close-on-exec). */
export function setInheritable(fd: number, inheritable: boolean): void {
  const flags = check('fcntl(F_GETFD)', fcntlInt(fd, F_GETFD, 0) as number);
  const next = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
  check('fcntl(F_SETFD)', fcntlInt(fd, F_SETFD, next) as number);
}

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const SO_ATTACH_REUSEPORT_CBPF = 51;

function ipv4ToNetworkOrder(host: string): number {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`listen address must be an IPv4 address such as 0.0.0.0, got "${host}"`);
  }
  const [a = 0, b = 0, c = 0, d = 0] = parts;
  // sin_addr is stored as the bytes a.b.c.d in memory; as a little-endian uint32 that is d<<24|c<<16|b<<8|a.
  return ((d << 24) | (c << 16) | (b << 8) | a) >>> 0;
}

/** A TCP socket with SO_REUSEADDR and SO_REUSEPORT, not yet bound: it can be handed to a child first. */
export function reusePortSocket(): number {
  const fd = check('socket', socketFn(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) as number);
  try {
    check('setsockopt(SO_REUSEADDR)', setsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR, [1], 4) as number);
    check('setsockopt(SO_REUSEPORT)', setsockoptInt(fd, SOL_SOCKET, SO_REUSEPORT, [1], 4) as number);
    return fd;
  } catch (err) {
    closeFn(fd);
    throw err;
  }
}

/** Binds and listens; the socket joins the port's SO_REUSEPORT group (same user, same network namespace). */
export function bindListen(fd: number, host: string, port: number, backlog = 511): void {
  const addr = {
    sin_family: AF_INET,
    sin_port: ((port & 0xff) << 8) | ((port >> 8) & 0xff),
    sin_addr: ipv4ToNetworkOrder(host),
    sin_zero: [0, 0, 0, 0, 0, 0, 0, 0],
  };
  check(`bind(${host}:${port})`, bindFn(fd, addr, 16) as number);
  check('listen', listenFn(fd, backlog) as number);
}

/**
 * Creates, binds and listens on a TCP socket in a SO_REUSEPORT group, so that two
 * processes in two containers of one pod (one network namespace, same user) can listen
 * on the same port during a handover. Returns the raw descriptor.
 */
export function listenReusePort(host: string, port: number, backlog = 511): number {
  const fd = reusePortSocket();
  try {
    bindListen(fd, host, port, backlog);
    return fd;
  } catch (err) {
    closeFn(fd);
    throw err;
  }
}

/**
 * Attaches a classic BPF program to the socket's SO_REUSEPORT group that sends every new
 * connection to the socket at `index` in the group (the newest listener is the last one).
 * When the index no longer exists (the old listener closed and the group shrank) the
 * kernel falls back to its hash, so the program never strands a connection.
 */
export function steerReusePortGroup(fd: number, index: number): void {
  const BPF_RET_K = 0x06;
  const prog = { len: 1, filter: [{ code: BPF_RET_K, jt: 0, jf: 0, k: index }] };
  check(
    'setsockopt(SO_ATTACH_REUSEPORT_CBPF)',
    setsockoptProg(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog, 16) as number,
  );
}

/**
 * Connections waiting in a listening socket's accept queue: for a socket in LISTEN state
 * the kernel reports its accept backlog as tcp_info.tcpi_unacked (byte offset 24).
 */
export function acceptQueueLength(fd: number): number {
  const IPPROTO_TCP = 6;
  const TCP_INFO = 11;
  const buf = Buffer.alloc(104);
  const len = [buf.length];
  check('getsockopt(TCP_INFO)', getsockoptBuf(fd, IPPROTO_TCP, TCP_INFO, buf, len) as number);
  return buf.readUInt32LE(24);
}

/** A second descriptor for the same socket (close-on-exec), so closing one keeps the socket open. */
export function dupFd(fd: number): number {
  const F_DUPFD_CLOEXEC = 1030;
  return check('fcntl(F_DUPFD_CLOEXEC)', fcntlInt(fd, F_DUPFD_CLOEXEC, 3) as number);
}

export function closeFd(fd: number): void {
  closeFn(fd);
}

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

/** Maps `length` bytes of an open file shared; writes are seen at once by every process mapping it. */
export function mapShared(fd: number, length: number): ArrayBuffer {
  const ptr = mmapFn(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (koffi.address(ptr) === 0xffffffffffffffffn) throw new SyscallError('mmap', errno());
  return koffi.view(ptr, length) as ArrayBuffer;
}

void Flock;
void SockFprog;
void SockaddrIn;

/**
 * Ends the process at once with `code`. process.exit() would wait forever for a koffi
 * worker thread blocked in F_OFD_SETLKW (a lock wait cannot be cancelled), so every
 * exit of a protocol participant goes through here. stdout and stderr are synchronous
 * for files and pipes on Linux, so nothing written before is lost.
 */
export function exitNow(code: number): never {
  exitFn(code);
  throw new Error('unreachable');
}
