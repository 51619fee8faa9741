/** Peak resident memory of this process. */
import { readFileSync } from 'node:fs';

/**
 * VmHWM from /proc/self/status: this process's own peak. getrusage's maxrss is not:
 * after exec it keeps the peak of the process that forked it (an emulator forking a
 * function's process reports the emulator's memory). Elsewhere than Linux, maxrss.
 */
export function peakRssBytes(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // no procfs
  }
  return process.resourceUsage().maxRSS * 1024;
}
