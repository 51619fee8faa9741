#!/usr/bin/env node
/**
 * `npm test`: makes sure the browser the report's tests drive is there, then runs vitest
 * with any arguments given (`npm test -- test/unit`). The emulators install themselves
 * into project-local virtualenvs from the e2e setup; a browser cannot, so it is found the
 * usual ways (CHROMIUM_PATH, Playwright's browser cache, chromium, chromium-browser,
 * google-chrome on the PATH) or, as root on a Debian-like machine, installed from the
 * distribution (Playwright cannot download its own here). So is Debian's fortunes-zh,
 * the Chinese text the jieba tests compare with Python's jieba. Otherwise the tests do
 * not start, and one line says what to install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium, installChromium } from './browser.mjs';
import { aptInstall } from './debian.mjs';

function browser() {
  const found = findChromium();
  if (found) return found;
  const installed = installChromium((line) => process.stderr.write(`npm test: ${line}\n`));
  if (installed.path) return installed.path;
  process.stderr.write(`npm test: ${installed.reason}\n`);
  process.exit(1);
}

function fortunesZh() {
  if (existsSync('/usr/share/games/fortunes/chinese')) return;
  const installed = aptInstall(['fortunes-zh'], (line) =>
    process.stderr.write(`npm test: ${line}\n`),
  );
  if (installed.ok) return;
  process.stderr.write(
    `npm test: Debian's fortunes-zh is needed for the jieba tests (apt-get install fortunes-zh): ${installed.reason}\n`,
  );
  process.exit(1);
}

const chromium = browser();
fortunesZh();
const vitest = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromium },
});
process.exit(vitest.status ?? 1);
