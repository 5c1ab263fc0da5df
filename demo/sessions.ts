// The demo's business state: one counter per session in shared memory, so that a test
// can prove a hot upgrade kept every session. Layout (little-endian):
//   bytes 0..3   magic "HUS1"
//   bytes 4..7   number of sessions (uint32)
//   bytes 8..    one uint32 counter per session id
export const MAGIC = 0x31535548; // "HUS1"
const HEADER_WORDS = 2;

export function regionBytes(sessions: number): number {
  return (HEADER_WORDS + sessions) * 4;
}

export class SessionTable {
  private readonly words: Uint32Array;
  readonly size: number;
  constructor(buffer: ArrayBuffer, sessions: number) {
    this.words = new Uint32Array(buffer, 0, HEADER_WORDS + sessions);
    if (this.words[0] === 0) {
      this.words[1] = sessions;
      this.words[0] = MAGIC;
    } else if (this.words[0] !== MAGIC || this.words[1] !== sessions) {
      throw new Error(
        `shared session table has magic ${this.words[0]} and ${this.words[1]} sessions; expected ${MAGIC} and ${sessions}`,
      );
    }
    this.size = sessions;
  }
  /** Counts one hit of `id` and returns its new total; null when the id is out of range. */
  hit(id: number): number | null {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) return null;
    const i = HEADER_WORDS + id;
    const next = ((this.words[i] ?? 0) + 1) >>> 0;
    this.words[i] = next;
    return next;
  }
  get(id: number): number | null {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) return null;
    return this.words[HEADER_WORDS + id] ?? 0;
  }
}
