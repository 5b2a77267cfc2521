#!/usr/bin/env node
// npm run test:node -- <version...> [-- vitest args]
//
//   npm run test:node -- 22 24 latest      the newest 22.x, 24.x and the newest release
//   npm run test:node -- 24.22.3 -- test/workqueue-edges.test.ts
//
// Runs the vitest suite under other Node versions than the machine's. Each Node
// comes from the npm registry's `node-linux-<arch>` package (the official
// binaries, republished there), fetched with `npm pack` into a cache directory
// and unpacked; nothing is downloaded from anywhere else. The addon is N-API,
// so the build in build/Release loads on every version unchanged; dist/ is
// built by the machine's Node first.
//
// The chosen Node is first on PATH for the run, so the suite's child processes,
// workers and the npm calls of the pack test run on it too. The cache is
// node_modules/.cache/ktimers-node/<version>/ (KTIMERS_NODE_CACHE overrides).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.KTIMERS_NODE_CACHE ?? join(root, 'node_modules', '.cache', 'ktimers-node');
const pkg = `node-linux-${process.arch === 'arm' ? 'armv7l' : process.arch}`;

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const wanted = sep >= 0 ? argv.slice(0, sep) : argv;
const vitestArgs = sep >= 0 ? argv.slice(sep + 1) : [];
if (wanted.length === 0 || wanted.includes('-h') || wanted.includes('--help')) {
  console.log('usage: npm run test:node -- <major|x.y.z|latest>... [-- vitest args]');
  process.exit(wanted.length ? 0 : 2);
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} → ${r.status ?? r.signal}\n${r.stderr ?? ''}`);
  return r.stdout;
}

/** The exact version a request names: the newest of a major, or the registry's latest. */
function resolve(req) {
  if (/^\d+\.\d+\.\d+$/.test(req)) return req;
  if (req === 'latest') return sh('npm', ['view', `${pkg}@latest`, 'version']).trim();
  if (!/^\d+$/.test(req)) throw new RangeError(`not a Node version: ${req} (a major such as 22, x.y.z, or latest)`);
  const all = JSON.parse(sh('npm', ['view', pkg, 'versions', '--json']));
  const of = all.filter((v) => v.startsWith(`${req}.`) && !v.includes('-'));
  if (!of.length) throw new RangeError(`${pkg} has no ${req}.x on the registry`);
  return of[of.length - 1];
}

/** The bin/ directory of that version, fetched and unpacked once. */
function install(version) {
  const dir = join(cache, version);
  const bin = join(dir, 'package', 'bin');
  if (existsSync(join(bin, 'node'))) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`test:node: fetching ${pkg}@${version} from the npm registry`);
  sh('npm', ['pack', `${pkg}@${version}`, '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  sh('tar', ['xzf', tgz, '-C', dir], { cwd: dir });
  rmSync(join(dir, tgz));
  if (!existsSync(join(bin, 'node'))) throw new Error(`${pkg}@${version} has no bin/node`);
  return bin;
}

sh('npm', ['run', 'build:ts'], { cwd: root, stdio: 'inherit' });
const results = [];
for (const req of wanted) {
  const version = resolve(req);
  const bin = install(version);
  const node = join(bin, 'node');
  const shown = sh(node, ['--version']).trim();
  console.log(`\ntest:node: the suite on Node ${shown} (${node})`);
  const r = spawnSync(node, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...vitestArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  process.stdout.write(r.stdout);
  // eslint-disable-next-line no-control-regex
  const tests = (r.stdout.replace(/\x1b\[[0-9;]*m/g, '').match(/^\s+Tests\s+(.+)$/m) ?? [])[1] ?? '(no summary)';
  results.push({ version: shown, status: r.status, tests: tests.trim() });
}
console.log('\ntest:node: summary');
for (const r of results) console.log(`  ${r.version.padEnd(10)} ${r.status === 0 ? 'green' : 'RED  '}  ${r.tests}`);
process.exit(results.every((r) => r.status === 0) ? 0 : 1);
