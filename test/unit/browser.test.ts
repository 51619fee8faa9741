/**
 * How `npm test` finds the browser for the report's tests: stand-in executables that
 * answer `--version` as Chromium does, laid out where each source puts them.
 */
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { findChromium } from '../../scripts/browser.mjs';

let root: string;

async function browserAt(file: string, works = true): Promise<string> {
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, works ? '#!/bin/sh\necho "Chromium 156.0.1"\n' : '#!/bin/sh\nexit 3\n');
  await chmod(file, 0o755);
  return file;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'browser-'));
});

/** An environment where nothing is found but what the test puts there. */
const env = (extra: Record<string, string> = {}) => ({
  HOME: root,
  PATH: join(root, 'empty-bin'),
  ...extra,
});

describe('findChromium', () => {
  it('finds nothing where there is nothing', () => {
    expect(findChromium(env())).toBeUndefined();
  });

  it('takes CHROMIUM_PATH first, and refuses one that does not run', async () => {
    const named = await browserAt(join(root, 'named', 'chrome'));
    await browserAt(join(root, 'bin', 'chromium'));
    expect(findChromium(env({ CHROMIUM_PATH: named, PATH: join(root, 'bin') }))).toBe(named);
    const broken = await browserAt(join(root, 'broken', 'chrome'), false);
    expect(() => findChromium(env({ CHROMIUM_PATH: broken }))).toThrow(
      /is not a Chromium that runs/,
    );
  });

  it("finds Playwright's cached browser, the newest first", async () => {
    await browserAt(
      join(root, '.cache', 'ms-playwright', 'chromium-1100', 'chrome-linux', 'chrome'),
    );
    const newest = await browserAt(
      join(root, '.cache', 'ms-playwright', 'chromium-1200', 'chrome-linux64', 'chrome'),
    );
    expect(findChromium(env())).toBe(newest);
    const elsewhere = join(root, 'browsers');
    const shell = await browserAt(
      join(elsewhere, 'chromium_headless_shell-1200', 'chrome-linux', 'headless_shell'),
    );
    expect(findChromium(env({ PLAYWRIGHT_BROWSERS_PATH: elsewhere }))).toBe(shell);
  });

  it('finds chromium, chromium-browser or google-chrome on the PATH, skipping one that fails', async () => {
    const bin = join(root, 'bin');
    await browserAt(join(bin, 'chromium'), false);
    const chrome = await browserAt(join(bin, 'google-chrome'));
    expect(findChromium(env({ PATH: `${join(root, 'nothing')}:${bin}` }))).toBe(chrome);
    const ubuntu = await browserAt(join(root, 'other', 'chromium-browser'));
    expect(findChromium(env({ PATH: join(root, 'other') }))).toBe(ubuntu);
  });
});
