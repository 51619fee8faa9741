import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Tests run the compiled worker, the artifact users run (`npm test` builds first). */
export function taskWorkerScript(): URL {
  const url = new URL('../../dist/lib/adapters/worker-pool/task-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(url)))
    throw new Error(`${fileURLToPath(url)} is missing: run npm run build`);
  return url;
}
