#!/usr/bin/env node
// npm run test:stress -- [--runs N] [--burners B] [--ref REF] [--repo DIR] [--out DIR] [--keep]
//
// Runs CI's job (.ci/run: `npm ci` then `npm test`, i.e. the unit suite and the
// ASan suite) on fresh clones, again and again, while B CPU burners spin, and
// prints how often each test failed. A test whose outcome depends on how fast
// the machine is shows up here and nowhere else: the suite is meant to be green
// on a loaded machine, by construction, not by luck.
//
// Each run is a new `git clone` of REF (default HEAD) from the repository this
// script is in (or --repo), so nothing built or installed by hand is reused.
// Burners are busy-looping child processes at the default priority, started
// before the first run and stopped after the last. Logs of every run are kept
// in --out (default: a new directory under the system tmpdir), with a JSON
// summary at the end.
//
// The per-test counts come from vitest's default reporter: the "FAIL" lines of
// its failed-tests section, attributed to the phase (unit or asan) in which
// they appeared; a run that failed outside vitest (npm ci, a build) counts
// under "(outside vitest)" with its exit status.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    burners: { type: 'string', default: String(cpus().length) },
    ref: { type: 'string', default: 'HEAD' },
    repo: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log('usage: npm run test:stress -- [--runs N] [--burners B] [--ref REF] [--repo DIR] [--out DIR] [--keep]');
  process.exit(0);
}
const runs = Number(opt.runs);
const burners = Number(opt.burners);
if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer (got ${opt.runs})`);
if (!Number.isSafeInteger(burners) || burners < 0) throw new RangeError(`--burners must be an integer >= 0 (got ${opt.burners})`);

const rev = spawnSync('git', ['-C', opt.repo, 'rev-parse', opt.ref], { encoding: 'utf8' });
if (rev.status !== 0) throw new Error(`not a commit in ${opt.repo}: ${opt.ref}\n${rev.stderr}`);
const commit = rev.stdout.trim();
const out = opt.out ?? mkdtempSync(join(tmpdir(), 'ktimers-stress-'));
mkdirSync(out, { recursive: true });

const burning = [];
for (let i = 0; i < burners; i++) {
  burning.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}
const stopBurners = () => burning.forEach((b) => b.kill('SIGKILL'));
process.on('exit', stopBurners);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Failed tests in one phase's output: vitest's "FAIL  file > suite > name" lines. */
function failures(text) {
  const found = new Set();
  for (const line of text.split('\n')) {
    // eslint-disable-next-line no-control-regex
    const m = line.replace(/\x1b\[[0-9;]*m/g, '').match(/^\s*FAIL\s+(.+?)\s*$/);
    if (m) found.add(m[1].replace(/\s+\d+ms$/, ''));
  }
  return [...found];
}

function runOnce(i) {
  const dir = join(out, `run-${i}`);
  const log = join(out, `run-${i}.log`);
  const clone = spawnSync('git', ['clone', '-q', opt.repo, dir], { encoding: 'utf8' });
  if (clone.status !== 0) throw new Error(`git clone failed: ${clone.stderr}`);
  spawnSync('git', ['-C', dir, 'checkout', '-q', commit]);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const file = createWriteStream(log);
    let text = '';
    const child = spawn('bash', ['.ci/run'], { cwd: dir, env: { ...process.env, CI: '1' } });
    for (const s of [child.stdout, child.stderr]) {
      s.on('data', (d) => {
        text += d;
        file.write(d);
      });
    }
    child.on('close', (status, signal) => {
      file.end();
      // The ASan phase starts where npm prints its script banner ("> ktimers@x.y.z test:asan").
      const at = text.search(/^> \S+@\S+ test:asan$/m);
      const unit = at >= 0 ? text.slice(0, at) : text;
      const asan = at >= 0 ? text.slice(at) : '';
      const failed = [
        ...failures(unit).map((t) => `unit: ${t}`),
        ...failures(asan).map((t) => `asan: ${t}`),
      ];
      if (status !== 0 && failed.length === 0) failed.push(`(outside vitest) exit ${status ?? signal}`);
      if (!opt.keep) rmSync(dir, { recursive: true, force: true });
      resolve({ run: i, status, seconds: Math.round((Date.now() - t0) / 1000), failed, log });
    });
  });
}

console.log(`stress: ${runs} run(s) of .ci/run on clean clones of ${commit.slice(0, 12)}, ${burners} burner(s), logs in ${out}`);
const results = [];
for (let i = 1; i <= runs; i++) {
  const r = await runOnce(i);
  results.push(r);
  console.log(`run ${i}/${runs}: ${r.status === 0 ? 'green' : 'RED'} in ${r.seconds} s${r.failed.length ? '\n  ' + r.failed.join('\n  ') : ''}`);
}
stopBurners();

const counts = new Map();
for (const r of results) for (const t of r.failed) counts.set(t, (counts.get(t) ?? 0) + 1);
const green = results.filter((r) => r.status === 0).length;
const secs = results.map((r) => r.seconds).sort((a, b) => a - b);
console.log(`\n${green}/${runs} green · ${burners} burner(s) · commit ${commit.slice(0, 12)} · run time median ${secs[secs.length >> 1]} s, max ${secs[secs.length - 1]} s`);
if (counts.size) {
  console.log('failures per test (runs failed / runs):');
  for (const [t, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${n}/${runs}  ${t}`);
}
writeFileSync(join(out, 'summary.json'), JSON.stringify({ commit, runs, burners, green, results, counts: Object.fromEntries(counts) }, null, 2));
process.exit(green === runs ? 0 : 1);
