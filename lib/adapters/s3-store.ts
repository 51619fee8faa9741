/** ObjectStore over one S3 bucket; SDK errors are translated here and nowhere else. */
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { mapLimit } from '../concurrency.js';
import {
  ConditionalConflictError,
  ObjectNotFoundError,
  PreconditionFailedError,
  UsageError,
  WordcountError,
} from '../errors.js';
import type {
  Body,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  ReadRangeOptions,
} from '../ports.js';

interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function sdkStatus(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function sdkName(error: unknown): string {
  const e = error as SdkError | undefined;
  return e?.Code ?? e?.name ?? '';
}

/** Keys in one DeleteObjects request (S3's most), and such requests at once. */
const MAX_DELETE_KEYS = 1000;
const DELETE_CONCURRENCY = 4;
/** Multipart parts for streamed uploads (S3's minimum is 5 MiB). */
const PART_SIZE = 8 * 1024 * 1024;
/** CopyObject copies up to 5 GB; bigger objects are copied in parts of this size. */
const COPY_LIMIT = 5 * 1024 ** 3;
const COPY_PART_SIZE = 512 * 1024 * 1024;

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async head(key: string): Promise<ObjectInfo> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        uri: this.uri(key),
        size: out.ContentLength ?? 0,
        etag: out.ETag ?? '',
        ...(out.LastModified && { modifiedAt: out.LastModified }),
        ...(out.Metadata && Object.keys(out.Metadata).length > 0 && { metadata: out.Metadata }),
      };
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  /** Pages through ListObjectsV2 (1000 keys a page): any number of keys, in key order. */
  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<ObjectInfo> {
    let token: string | undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            // The first page only: a continuation goes on from where the last page ended.
            StartAfter: token === undefined ? options.startAfter : undefined,
          }),
        );
      } catch (error) {
        throw this.translate(error, prefix);
      }
      for (const object of out.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key,
          uri: this.uri(object.Key),
          size: object.Size ?? 0,
          etag: object.ETag ?? '',
          ...(object.LastModified && { modifiedAt: object.LastModified }),
        };
      }
      token = out.NextContinuationToken;
    } while (token);
  }

  async *readRange(key: string, options: ReadRangeOptions): AsyncGenerator<Uint8Array> {
    if (options.end !== undefined && options.end <= options.start) return;
    const range = `bytes=${options.start}-${options.end === undefined ? '' : options.end - 1}`;
    const abort = new AbortController();
    let body: Readable;
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range,
          IfMatch: options.ifMatch,
        }),
        { abortSignal: abort.signal },
      );
      body = out.Body as Readable;
    } catch (error) {
      // A range starting at or past the end holds no bytes.
      if (sdkStatus(error) === 416 || sdkName(error) === 'InvalidRange') return;
      throw this.translate(error, key);
    }
    try {
      for await (const chunk of body) yield chunk as Uint8Array;
    } catch (error) {
      throw this.translate(error, key);
    } finally {
      // The reader may stop early (its last token ended): drop the rest of the stream.
      if (!body.readableEnded) {
        body.destroy();
        abort.abort();
      }
    }
  }

  async get(key: string): Promise<Uint8Array> {
    return (await this.getVersion(key)).body;
  }

  async getVersion(key: string): Promise<{ body: Uint8Array; etag: string }> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      return { body, etag: out.ETag ?? '' };
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<PutResult> {
    try {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        const out = await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: options.contentType,
            Metadata: options.metadata,
            IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
            IfMatch: options.ifMatch,
          }),
        );
        return { etag: out.ETag ?? '' };
      }
      if (options.ifNoneMatch || options.ifMatch !== undefined) {
        throw new UsageError(`conditional put of ${this.uri(key)} needs a string or byte body`);
      }
      // Large bodies (the counts file) stream up in parts; small ones become one PutObject.
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: key,
          Body: Readable.from(body),
          ContentType: options.contentType,
          Metadata: options.metadata,
        },
        partSize: PART_SIZE,
        queueSize: 2,
      });
      const out = await upload.done();
      return { etag: ('ETag' in out && out.ETag) || '' };
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  /** Server-side: one CopyObject up to 5 GB, a multipart copy of 512 MiB parts beyond. */
  async copy(
    from: string,
    to: string,
    options: Pick<PutOptions, 'contentType' | 'metadata'> = {},
  ): Promise<void> {
    const source = `${this.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}`;
    const { size } = await this.head(from);
    try {
      if (size <= COPY_LIMIT) {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: to,
            CopySource: source,
            MetadataDirective: 'REPLACE',
            Metadata: options.metadata,
            ContentType: options.contentType,
          }),
        );
        return;
      }
      const { UploadId } = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: to,
          Metadata: options.metadata,
          ContentType: options.contentType,
        }),
      );
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART_SIZE, n++) {
        const end = Math.min(size, start + COPY_PART_SIZE) - 1;
        const out = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: to,
            UploadId,
            PartNumber: n,
            CopySource: source,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ ETag: out.CopyPartResult?.ETag ?? '', PartNumber: n });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: to,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      throw this.translate(error, to);
    }
  }

  async delete(key: string, options: { ifMatch?: string } = {}): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(options.ifMatch !== undefined && { IfMatch: options.ifMatch }),
        }),
      );
    } catch (error) {
      if (options.ifMatch !== undefined && sdkName(error) === 'NotImplemented') {
        await this.compareAndDelete(key, options.ifMatch);
        return;
      }
      throw this.translate(error, key);
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    const batches: string[][] = [];
    for (let i = 0; i < keys.length; i += MAX_DELETE_KEYS) {
      batches.push(keys.slice(i, i + MAX_DELETE_KEYS));
    }
    await mapLimit(batches, DELETE_CONCURRENCY, async (batch) => {
      let out: DeleteObjectsCommandOutput;
      try {
        out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
      } catch (error) {
        throw this.translate(error, batch[0] as string);
      }
      const [first] = out.Errors ?? [];
      if (first) {
        throw new WordcountError(
          `${this.uri(first.Key ?? '')}: not deleted (${(out.Errors ?? []).length} of ${batch.length} in the request): ${first.Code}: ${first.Message ?? 'no reason given'}`,
        );
      }
    });
  }

  /**
   * A conditional delete where the service has none (S3 has had it since September 2025;
   * LocalStack 4.13 answers 501): the etag compared, then the key deleted. Not atomic: a
   * write landing between the two is deleted with it. Same answers otherwise.
   */
  private async compareAndDelete(key: string, ifMatch: string): Promise<void> {
    const { etag } = await this.head(key);
    if (etag !== ifMatch) {
      throw new PreconditionFailedError(`${this.uri(key)}: precondition failed (it changed)`);
    }
    await this.delete(key);
  }

  private translate(error: unknown, key: string): Error {
    if (error instanceof UsageError) return error;
    const status = sdkStatus(error);
    const name = sdkName(error);
    const uri = this.uri(key);
    if (name === 'NoSuchBucket')
      return new ObjectNotFoundError(uri, 'no such bucket', { cause: error });
    if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
      return new ObjectNotFoundError(uri, 'no such key', { cause: error });
    }
    if (status === 403) return new ObjectNotFoundError(uri, 'access denied', { cause: error });
    if (status === 409 && name === 'ConditionalRequestConflict') {
      return new ConditionalConflictError(`${uri}: a concurrent conditional write is in progress`, {
        cause: error,
      });
    }
    if (status === 412 || name === 'PreconditionFailed') {
      return new PreconditionFailedError(`${uri}: precondition failed (it exists or changed)`, {
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new Error(
      `${uri}: ${name || 'S3 error'}${status ? ` (HTTP ${status})` : ''}: ${message}`,
      {
        cause: error,
      },
    );
  }
}
