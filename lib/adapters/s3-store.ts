/** ObjectStore over one S3 bucket; SDK errors are translated here and nowhere else. */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, PreconditionFailedError, UsageError } from '../errors.js';
import type { Body, ObjectInfo, ObjectStore, PutOptions, ReadRangeOptions } from '../ports.js';

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

/** Multipart parts for streamed uploads (S3's minimum is 5 MiB). */
const PART_SIZE = 8 * 1024 * 1024;

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
      return { key, uri: this.uri(key), size: out.ContentLength ?? 0, etag: out.ETag ?? '' };
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  /** Pages through ListObjectsV2 (1000 keys a page): any number of keys, in key order. */
  async *list(prefix: string): AsyncGenerator<ObjectInfo> {
    let token: string | undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
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
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<void> {
    try {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: options.contentType,
            IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
            IfMatch: options.ifMatch,
          }),
        );
        return;
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
        },
        partSize: PART_SIZE,
        queueSize: 2,
      });
      await upload.done();
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw this.translate(error, key);
    }
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
