// Splits a byte stream of newline-delimited JSON (a watch response) into parsed values.
// Pure: chunks in, values out; a line may span chunks and a chunk may end mid-character.

export class NdjsonSplitter {
  #decoder = new TextDecoder();
  #rest = '';

  /** Values completed by this chunk; throws SyntaxError on a malformed line. */
  push(chunk: Uint8Array): unknown[] {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    const out: unknown[] = [];
    for (const line of lines) if (line.trim()) out.push(JSON.parse(line));
    return out;
  }

  /** Bytes of an unfinished line still buffered (a watch never ends mid-line on purpose). */
  get pending(): number {
    return this.#rest.length;
  }
}
