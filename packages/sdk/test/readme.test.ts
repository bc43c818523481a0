// The README's TypeScript examples compile against the built package, as a user's project would see it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './vectors.js';

const sdkDir = path.join(repoRoot, 'packages', 'sdk');

describe('packages/sdk/README.md', () => {
  it('has TypeScript examples that type-check with strict settings', () => {
    const readme = readFileSync(path.join(sdkDir, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    // Inside the repository so that `@hookster/sdk`, express, fastify and hono resolve from node_modules.
    const dir = mkdtempSync(path.join(sdkDir, '.readme-check-'));
    try {
      blocks.forEach((code, index) => writeFileSync(path.join(dir, `example-${index}.ts`), code));
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'ES2023',
            lib: ['ES2023', 'DOM'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            types: ['node'],
            skipLibCheck: true,
            isolatedModules: true,
          },
          include: ['*.ts'],
        }),
      );
      const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
      let output = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', timeout: 120_000 });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? error);
      }
      expect(output).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
