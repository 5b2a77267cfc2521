// The house rules of lib/, read from the sources themselves (CONTRIBUTING.md "Layers").
//
// Layers lean only downwards: an entry point may use anything; the kernel-named API
// (an area folder such as lib/timer/, or a single-file area such as lib/ktime.ts) and
// the Node-style layer (lib/api/) use each other and the engine; the engine
// (lib/internal/) uses only itself, the loader and errors; the loader (lib/binding.ts)
// uses only errors. A worker script started with `new URL('./x.js', import.meta.url)`
// is a dependency like an import: an engine that starts an API-layer file leans
// upwards as surely as one that imports it.
//
// A file the table below does not place fails the test, so a new file is placed on
// purpose, not by accident.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'lib');

const LAYERS = ['base', 'loader', 'engine', 'api', 'entry'] as const;
type Layer = (typeof LAYERS)[number];

const ENTRY_FILES = new Set(['index.ts', 'testing.ts', 'promises.ts', 'legacy.ts', 'perf_hooks.ts', 'loop-delay.ts']);
const API_FILES = new Set(['ktime.ts', 'jiffies.ts', 'sched.ts', 'context.ts']);
const API_DIRS = new Set(['api', 'timer', 'workqueue', 'hrtimer', 'kthread', 'kfifo']);
const ENTRY_DIRS = new Set(['cyclictest', 'loop-delay']);

/** The layer of a file (path relative to lib/), or undefined if the house has no room for it. */
export function layerOf(rel: string): Layer | undefined {
  const parts = rel.split('/');
  if (parts.length === 1) {
    if (rel === 'errors.ts') return 'base';
    if (rel === 'binding.ts') return 'loader';
    if (ENTRY_FILES.has(rel)) return 'entry';
    if (API_FILES.has(rel)) return 'api';
    return undefined;
  }
  if (parts[0] === 'internal') return 'engine';
  if (API_DIRS.has(parts[0])) return 'api';
  if (ENTRY_DIRS.has(parts[0])) return 'entry';
  return undefined;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative specifiers a file depends on: static and dynamic imports, re-exports, worker scripts. */
export function dependencies(src: string): string[] {
  // Comments may quote code (`import('./x.js')` in a design note): they are not dependencies.
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"](\.[^'"]+)['"]/g,
    /\bimport\s*['"](\.[^'"]+)['"]/g,
    /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g,
    /\bnew URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  // A specifier without a module extension (`new URL('..', import.meta.url)`: the package root) names no file of lib/.
  for (const re of patterns) for (const m of code.matchAll(re)) if (/\.[cm]?js$/.test(m[1])) out.push(m[1]);
  return out;
}

const files = walk(lib).map((p) => relative(lib, p).split('\\').join('/')).sort();

describe('the pure helpers of this test', () => {
  it('finds every kind of dependency and none in comments', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export * from './c/index.js';",
      "export { d } from './d.js';",
      "import './side.js';",
      "const m = await import('./dyn.js');",
      "new Worker(new URL('./w.js', import.meta.url));",
      "import { x } from 'node:fs';",
      "// import { no } from './comment.js';",
      "/* new URL('./nope.js', import.meta.url) */",
      "const s = 'http://example'; // a url in a string keeps the code before it",
      "new URL('..', import.meta.url);",
    ].join('\n');
    expect(dependencies(src).sort()).toEqual(['../b.js', './a.js', './c/index.js', './d.js', './dyn.js', './side.js', './w.js']);
  });

  it('places files by folder and name', () => {
    expect(layerOf('errors.ts')).toBe('base');
    expect(layerOf('binding.ts')).toBe('loader');
    expect(layerOf('internal/engine.ts')).toBe('engine');
    expect(layerOf('timer/index.ts')).toBe('api');
    expect(layerOf('ktime.ts')).toBe('api');
    expect(layerOf('api/duration.ts')).toBe('api');
    expect(layerOf('index.ts')).toBe('entry');
    expect(layerOf('cyclictest/cli.ts')).toBe('entry');
    expect(layerOf('stray.ts')).toBeUndefined();
    expect(layerOf('elsewhere/x.ts')).toBeUndefined();
  });
});

describe('lib/ layers lean only downwards', () => {
  it('every file of lib/ has a layer', () => {
    expect(files.filter((f) => layerOf(f) === undefined)).toEqual([]);
  });

  it('no file depends on a file of a higher layer, and every relative dependency exists', () => {
    const upward: string[] = [];
    const missing: string[] = [];
    for (const f of files) {
      const from = layerOf(f);
      if (from === undefined) continue;
      for (const spec of dependencies(readFileSync(join(lib, f), 'utf8'))) {
        const target = relative(lib, resolve(lib, dirname(f), spec)).split('\\').join('/').replace(/\.js$/, '.ts');
        if (!files.includes(target)) {
          missing.push(`${f} → ${spec}`);
          continue;
        }
        const to = layerOf(target)!;
        if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) upward.push(`${f} (${from}) → ${target} (${to})`);
      }
    }
    expect(missing).toEqual([]);
    expect(upward).toEqual([]);
  });

  it('errors.ts, the base every layer uses, depends on no other file of lib/', () => {
    expect(dependencies(readFileSync(join(lib, 'errors.ts'), 'utf8'))).toEqual([]);
  });
});

describe('rooms of a livable size', () => {
  // One concern per file: a file past this has two, and is split by concern (CONTRIBUTING.md).
  const LIMIT = 600;
  it(`no file of lib/ is longer than ${LIMIT} lines`, () => {
    const long = files
      .map((f) => [f, readFileSync(join(lib, f), 'utf8').split('\n').length - 1] as const)
      .filter(([, n]) => n > LIMIT)
      .map(([f, n]) => `${f}: ${n}`);
    expect(long).toEqual([]);
  });
});
