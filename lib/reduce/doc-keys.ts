/**
 * Document frequency through the shuffle (`--doc-freq`): a word's number of documents
 * travels as a partial line of its own, `\x1fword\tdocs\n`, the word behind one 0x1f
 * byte (the unit separator: whitespace to Python's `str.split()` and a separator in
 * words mode, so never inside a token or an n-gram). The partitioner hashes such a key
 * without its mark, so it lands in its word's partition and is added up like any count;
 * the last sort (EntryList.appendTable) joins it to its word as the third column.
 */

export const DOC_MARK = 0x1f;

/** Whether the key at buf[s] is a word's document count. */
export function isDocKey(buf: Uint8Array, s: number): boolean {
  return buf[s] === DOC_MARK;
}

/** `key\tcount\n` lines with every key marked as a document count. */
export function markLines(lines: Uint8Array): Uint8Array {
  let count = 0;
  for (let k = 0; k < lines.length; k++) if (lines[k] === 10) count++;
  const out = new Uint8Array(lines.length + count);
  let o = 0;
  let lineStart = true;
  for (let k = 0; k < lines.length; k++) {
    const b = lines[k] as number;
    if (lineStart) out[o++] = DOC_MARK;
    out[o++] = b;
    lineStart = b === 10;
  }
  return out;
}
