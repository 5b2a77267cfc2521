// docs/api.md is generated from the TSDoc (npm run docs): it must be current,
// every export must be documented (kernel names with Context:/Return:), and
// every runtime export of every entry point must have its entry.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SLOWDOWN } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

it('docs/api.md is up to date and no export lacks TSDoc (fix: add the TSDoc, then `npm run docs`)', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-docs.mjs', '--check'], { cwd: root, encoding: 'utf8', timeout: 60_000 * SLOWDOWN });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

it('every runtime export of every entry point has an entry in docs/api.md', async () => {
  const md = readFileSync(`${root}docs/api.md`, 'utf8');
  const anchors = new Set([...md.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const missing: string[] = [];
  let checked = 0;
  for (const [key, v] of Object.entries(pkg.exports as Record<string, string | { default: string }>)) {
    if (typeof v === 'string') continue;
    const mod = await import(`${root}${v.default.slice(2)}`);
    for (const name of Object.keys(mod)) {
      checked++;
      if (!anchors.has(name)) missing.push(`${key}: ${name}`);
    }
  }
  expect(missing).toEqual([]);
  expect(checked).toBeGreaterThan(200);
  // Kernel-doc sections are rendered as such.
  expect(md).toMatch(/### `hrtimer_forward`[\s\S]*?\*\*Context:\*\*[\s\S]*?\*\*Return:\*\* the number of intervals added/);
});
