// Package hygiene: what `npm pack` would publish, the exports map, and no runtime dependency on the verify path.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './vectors.js';

const sdkDir = path.join(repoRoot, 'packages', 'sdk');
const manifest = JSON.parse(readFileSync(path.join(sdkDir, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  exports: Record<string, unknown>;
  type: string;
};

function requireBuilt(): void {
  if (!existsSync(path.join(sdkDir, 'dist', 'index.js'))) {
    throw new Error('packages/sdk/dist is missing: run `npx tsc -b packages/sdk` (npm test builds first)');
  }
}

/** Every module reachable from `entry` through static imports, with the bare specifiers it imports. */
function importGraph(entry: string): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) pending.push(path.resolve(path.dirname(file), specifier));
      else external.add(specifier);
    }
  }
  return { files: [...files], external: [...external].sort() };
}

describe('@hookster/sdk package', () => {
  it('publishes the built entries, their types and the README, and no sources, tests or maps', () => {
    requireBuilt();
    const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: sdkDir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const [pack] = JSON.parse(output) as [{ name: string; files: { path: string }[] }];
    const files = pack.files.map((f) => f.path).sort();
    expect(pack.name).toBe('@hookster/sdk');
    for (const required of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/webcrypto.js',
      'dist/webcrypto.d.ts',
    ]) {
      expect(files).toContain(required);
    }
    const stray = files.filter(
      (f) => !(f === 'package.json' || f === 'README.md' || /^dist\/.+\.(js|d\.ts)$/.test(f)),
    );
    expect(stray).toEqual([]);
    expect(files.filter((f) => /test|\.map$|tsbuildinfo|^src\//.test(f))).toEqual([]);
  });

  it('has an ESM exports map whose every target exists, with types next to each import', () => {
    requireBuilt();
    expect(manifest.type).toBe('module');
    const targets: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value);
      else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
    };
    walk(manifest.exports);
    for (const target of targets) expect(existsSync(path.join(sdkDir, target)), target).toBe(true);
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      if (subpath === './package.json') continue;
      const branches = subpath === '.' ? Object.values(conditions as Record<string, unknown>) : [conditions];
      for (const branch of branches) expect(Object.keys(branch as object)[0], subpath).toBe('types');
    }
  });

  it('verifies with no runtime dependency: Node entry needs only node:crypto and node:buffer, WebCrypto none', () => {
    requireBuilt();
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(importGraph(path.join(sdkDir, 'dist', 'index.js')).external).toEqual([
      'node:buffer',
      'node:crypto',
    ]);
    expect(importGraph(path.join(sdkDir, 'dist', 'webcrypto.js')).external).toEqual([]);
    expect(importGraph(path.join(sdkDir, 'dist', 'web.js')).external).toEqual([]);
    expect(importGraph(path.join(sdkDir, 'dist', 'fastify.js')).external).toEqual([]);
  });

  it('uses no Node global (Buffer, process, require) anywhere on the WebCrypto and Web paths', () => {
    requireBuilt();
    const files = new Set([
      ...importGraph(path.join(sdkDir, 'dist', 'webcrypto.js')).files,
      ...importGraph(path.join(sdkDir, 'dist', 'web.js')).files,
    ]);
    expect(files.size).toBeGreaterThan(5);
    for (const file of files) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code.match(/\b(Buffer|process|require|global)\b/g), path.relative(sdkDir, file)).toBeNull();
    }
  });

  it('resolves the main entry to node:crypto on Node and to WebCrypto under the worker condition', () => {
    requireBuilt();
    const probe =
      "import('@hookster/sdk').then(async (m) => { const r = m.signHubster('{}', 'K'); console.log(typeof r === 'string' ? 'sync' : 'async'); })";
    const onNode = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const onWorker = execFileSync(
      process.execPath,
      ['--conditions=worker', '--input-type=module', '-e', probe],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect([onNode.trim(), onWorker.trim()]).toEqual(['sync', 'async']);
  });
});
