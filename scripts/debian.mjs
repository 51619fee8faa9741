/**
 * Debian packages the tests need from the distribution (a browser, sample texts), installed
 * where this process may: as root, with apt-get. Returns `{ ok: true }`, or `{ reason }`:
 * one line saying what failed.
 */

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Whether `file` may be run. */
export function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function aptInstall(packages, log = () => {}, env = process.env) {
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find(executable);
  if (process.getuid?.() !== 0 || !aptGet) return { reason: 'not root, or no apt-get' };
  log(`installing Debian's ${packages.join(', ')} (apt-get)`);
  const apt = { encoding: 'utf8', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } };
  const update = spawnSync(aptGet, ['update', '-qq'], apt);
  const install =
    update.status === 0
      ? spawnSync(aptGet, ['install', '-y', '-qq', '--no-install-recommends', ...packages], apt)
      : update;
  if (install.status === 0) return { ok: true };
  const last = `${install.stderr ?? ''}`.trim().split('\n').pop() ?? '';
  return { reason: `apt-get failed: ${last || `exit ${install.status}`}` };
}
