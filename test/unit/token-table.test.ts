import { describe, expect, it } from 'vitest';
import { TaskCounts } from '../../lib/kernel/task-counts.js';
import { mergeEntries } from '../support/oracle.js';

describe('the wasm table', () => {
  it('keeps counts past a slot’s 2^31 - 1 as extra lines, inline and partitioned', () => {
    const counts = new TaskCounts();
    const { kernel } = counts;
    const at = kernel.x.alloc(8);
    kernel.bytes().set(new TextEncoder().encode('a'), at);
    const times = 2 ** 31 + 5;
    kernel.x.tableAddTimes(kernel.main, at, 0, 1, 0, times);
    kernel.x.tableAddTimes(kernel.main, at, 0, 1, 0, 7);
    expect(counts.tokens()).toBe(times + 7);
    const inline = new Map<string, number>();
    mergeEntries(inline, new TextDecoder().decode(counts.lines()));
    expect(inline).toEqual(new Map([['a', times + 7]]));
    const { bytes, offsets } = counts.partitioned(4);
    const partitioned = new Map<string, number>();
    mergeEntries(partitioned, new TextDecoder().decode(bytes));
    expect(partitioned).toEqual(inline);
    expect(offsets.at(-1)).toBe(bytes.length);
  });
});
