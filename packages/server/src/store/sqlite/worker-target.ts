// How to start a worker thread on one of this package's modules, from dist/ or from source under tsx.

import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `Worker` target for `entry` (a module next to the caller, named without extension): the `.js`
 * file when the caller runs from dist/, or — from source under tsx — a small bootstrap evaluated in the
 * thread. Why the bootstrap: on Node 20 the `--import tsx` of execArgv does not reach a worker's module
 * loader, so the thread registers tsx itself before importing the TypeScript entry.
 */
export function workerTarget(callerUrl: string, entry: string): { target: string | URL; eval: boolean } {
  const extension = extname(fileURLToPath(callerUrl));
  const url = new URL(`./${entry}${extension}`, callerUrl);
  if (extension !== '.ts') return { target: url, eval: false };
  return {
    target:
      `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
      `.then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`,
    eval: true,
  };
}
