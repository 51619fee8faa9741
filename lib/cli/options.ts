/** Parsers of the CLI's option values: each names the option in its one-line error. */
import { InvalidArgumentError } from 'commander';
import { messageOf } from '../errors.js';
import { MAX_CHUNK_SIZE } from '../plan.js';
import { parseSize } from '../sizes.js';

export function positiveInteger(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    }
    return value;
  };
}

export function nonNegativeInteger(text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('--top must be a whole number.');
  return value;
}

export function field(text: string): string {
  if (text === '' || text.split('.').some((k) => k === '')) {
    throw new InvalidArgumentError(
      `'${text}' is not a field: give a name or a dotted path such as meta.body.`,
    );
  }
  return text;
}

export function chunkSize(text: string): number {
  let size: number;
  try {
    size = parseSize(text);
  } catch (error) {
    throw new InvalidArgumentError(messageOf(error));
  }
  if (size < 1 || size > MAX_CHUNK_SIZE) {
    throw new InvalidArgumentError('--chunk-size must be at least 1 byte and at most 1GiB.');
  }
  return size;
}
