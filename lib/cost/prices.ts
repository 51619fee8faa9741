/**
 * The price table a job's cost is estimated with: list prices in USD per unit. The
 * default is us-east-1 on arm64 (what sst.config.ts deploys), Lambda's first tier and S3
 * Standard, as published in November 2026; `WORDCOUNT_PRICES` picks another table or
 * overrides any field (README, Cost).
 */
import { UsageError } from '../errors.js';

export interface Prices {
  /** Where these prices are from, shown with the estimate. */
  name: string;
  /** Lambda compute, per GB-second. */
  lambdaGbSecond: number;
  /** Lambda, per invocation. */
  lambdaRequest: number;
  /** S3 PUT, COPY, POST (multipart create and complete), LIST and part uploads, per request. */
  s3WriteRequest: number;
  /** S3 GET, HEAD and every other request but DELETE (free), per request. */
  s3ReadRequest: number;
  /** SQS standard queue, per API request. */
  sqsRequest: number;
}

const US_EAST_1 = {
  lambdaRequest: 0.0000002,
  s3WriteRequest: 0.000005,
  s3ReadRequest: 0.0000004,
  sqsRequest: 0.0000004,
};

export const PRICE_TABLES: Record<string, Prices> = {
  'us-east-1/arm64': {
    name: 'us-east-1 arm64 list prices',
    lambdaGbSecond: 0.0000133334,
    ...US_EAST_1,
  },
  'us-east-1/x86_64': {
    name: 'us-east-1 x86_64 list prices',
    lambdaGbSecond: 0.0000166667,
    ...US_EAST_1,
  },
};

export const DEFAULT_PRICES = PRICE_TABLES['us-east-1/arm64'] as Prices;

const FIELDS = [
  'lambdaGbSecond',
  'lambdaRequest',
  's3WriteRequest',
  's3ReadRequest',
  'sqsRequest',
] as const;

/**
 * The prices `text` asks for: empty for the default, a table's name
 * ("us-east-1/x86_64"), or a JSON object whose fields replace the default's.
 */
export function parsePrices(text: string | undefined): Prices {
  if (text === undefined || text.trim() === '') return DEFAULT_PRICES;
  const table = PRICE_TABLES[text.trim()];
  if (table) return table;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(
      `configuration: WORDCOUNT_PRICES must be one of ${Object.keys(PRICE_TABLES).join(', ')} or a JSON object, got '${text}'`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('configuration: WORDCOUNT_PRICES must be a JSON object of prices');
  }
  const prices: Prices = { ...DEFAULT_PRICES, name: 'custom prices' };
  for (const [field, v] of Object.entries(value)) {
    if (field === 'name' && typeof v === 'string') prices.name = v;
    else if ((FIELDS as readonly string[]).includes(field) && typeof v === 'number' && v >= 0) {
      prices[field as (typeof FIELDS)[number]] = v;
    } else {
      throw new UsageError(
        `configuration: WORDCOUNT_PRICES: '${field}' is not a price (fields: name, ${FIELDS.join(', ')}; prices are numbers >= 0)`,
      );
    }
  }
  return prices;
}
