/**
 * WARC/1.0 and 1.1 records (what Common Crawl's WET files hold, one gzip member per
 * record, which gunzip reads as one stream): a version line, header lines, a blank line,
 * a block of Content-Length bytes, then CRLF CRLF. The counted text is the block of
 * `conversion` records (a page's extracted text) and of `resource` records whose
 * content type is text; every other record (`warcinfo`, `request`, `response`,
 * `metadata`, ...) is skipped and counted as skipped. Headers are never counted. A
 * stream that is not WARC fails naming the object and the record.
 */
import { CorruptInputError } from '../errors.js';
import type { RecordStats } from './record-stats.js';
import type { CountedText } from './record-text.js';

/** Header blocks bigger than this are not WARC. */
const MAX_HEADER_BYTES = 1024 * 1024;
const CR = 0x0d;
const LF = 0x0a;
const decoder = new TextDecoder();

/** Whether a record of `type` with content type `contentType` is counted. */
export function countsRecord(type: string, contentType: string): boolean {
  if (type === 'conversion') return true;
  return type === 'resource' && contentType.trim().toLowerCase().startsWith('text/');
}

export class WarcReader {
  private state: 'between' | 'header' | 'block' = 'between';
  private header = new Uint8Array(4096);
  private headerLength = 0;
  /** Block bytes still to come, and whether they are counted. */
  private remaining = 0;
  private counted = false;
  /** Records seen, for messages (1 = the first). */
  private record = 0;

  constructor(
    private readonly text: CountedText,
    private readonly stats: RecordStats,
    private readonly uri: string,
  ) {}

  async push(piece: Uint8Array): Promise<void> {
    let i = 0;
    while (i < piece.length) {
      if (this.state === 'between') {
        // CR and LF between records (the CRLF CRLF after a block, and any extra).
        while (i < piece.length && (piece[i] === CR || piece[i] === LF)) i++;
        if (i < piece.length) {
          this.state = 'header';
          this.headerLength = 0;
          this.record++;
        }
        continue;
      }
      if (this.state === 'header') {
        i = this.readHeader(piece, i);
        continue;
      }
      if (this.remaining === 0) {
        await this.endBlock();
        continue;
      }
      const take = Math.min(this.remaining, piece.length - i);
      if (this.counted && take > 0) await this.text.append(piece.subarray(i, i + take));
      this.remaining -= take;
      i += take;
      if (this.remaining === 0) await this.endBlock();
    }
  }

  /** The stream ended: it must end between records. */
  async end(): Promise<void> {
    if (this.state === 'block' && this.remaining === 0) await this.endBlock();
    if (this.state === 'header') this.corrupt('the stream ends inside its header');
    if (this.state === 'block')
      this.corrupt(`the stream ends ${this.remaining} byte(s) short of its block`);
  }

  /** Gathers header bytes from `i` until the blank line; returns where the block starts. */
  private readHeader(piece: Uint8Array, i: number): number {
    let j = i;
    while (j < piece.length) {
      const b = piece[j++] as number;
      this.pushHeaderByte(b);
      const n = this.headerLength;
      const h = this.header;
      if (
        b === LF &&
        ((n >= 4 && h[n - 2] === CR && h[n - 3] === LF) || (n >= 2 && h[n - 2] === LF))
      ) {
        this.startBlock();
        return j;
      }
    }
    return j;
  }

  private pushHeaderByte(b: number): void {
    if (this.headerLength === this.header.length) {
      if (this.header.length >= MAX_HEADER_BYTES) this.corrupt('its header is over 1 MiB');
      const grown = new Uint8Array(this.header.length * 2);
      grown.set(this.header);
      this.header = grown;
    }
    this.header[this.headerLength++] = b;
  }

  private startBlock(): void {
    const lines = decoder.decode(this.header.subarray(0, this.headerLength)).split(/\r?\n/);
    const version = lines[0] ?? '';
    if (!/^WARC\/1\.[01]$/.test(version.trim())) {
      this.corrupt(`not a WARC record (it starts '${version.slice(0, 40)}')`);
    }
    const fields = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0)
        fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = fields.get('content-length') ?? '';
    if (!/^\d+$/.test(length)) this.corrupt(`its Content-Length is '${length}'`);
    this.remaining = Number(length);
    this.counted = countsRecord(fields.get('warc-type') ?? '', fields.get('content-type') ?? '');
    if (this.counted) this.stats.records++;
    else this.stats.skippedRecords++;
    this.state = 'block';
  }

  private async endBlock(): Promise<void> {
    this.state = 'between';
    if (this.counted) await this.text.endRecord();
  }

  private corrupt(why: string): never {
    throw new CorruptInputError(`${this.uri}: WARC record ${this.record}: ${why}`);
  }
}
