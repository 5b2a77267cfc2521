// The package as a user gets it: `npm pack` ships the prebuilds (linux-x64,
// and linux-arm64 and linux-arm where their cross toolchains are installed:
// docs/prebuilds.md), the sources to rebuild them, dist/ and README/LICENSE,
// nothing else; installed into a fresh project with --ignore-scripts (so no
// local build can happen), the prebuild is what loads, and ESM, CommonJS
// (require(esm)) and TypeScript consumers (.ts and .cts, checked by
// @arethetypeswrong/cli too) work against it. The arm prebuilds run under
// emulation in `npm run test:cross` (scripts/test-cross.mjs).
//
// Offline by construction: the tarball's two dependencies are packed from this
// checkout's node_modules (the versions `npm ci` installed) and installed as
// local tarballs with --offline and an empty cache, so nothing is fetched.
import { execFile, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOWDOWN, spawnCollect } from './helpers.js';
// A plain .mjs script, without types: TARGETS is read as Target[].
import { TARGETS } from '../scripts/prebuild.mjs';

type Target = { arch: string; file: string; triple?: string };
const onPath = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
/** The prebuilds this machine builds: the host's, and each cross one whose toolchain is installed (`npm test` installs none). */
const shipped = (TARGETS as Target[]).filter((t) => (t.triple ? process.arch === 'x64' && onPath(`${t.triple}-g++`) : t.arch === process.arch));
const prebuildFiles = shipped.map((t) => `prebuilds/linux-${t.arch}/${t.file}`);
const hostPrebuild = prebuildFiles.find((f) => f.startsWith(`prebuilds/linux-${process.arch}/`))!;

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let work = '';
let project = '';
let files: string[] = [];
let tarball = '';

// Builds and installs run at the machine's normal priority, with limits that
// are backstops only: a compile under nice 19 beside CPU-bound work gets almost
// no CPU and was killed by its limit, which said nothing about the package.
const LIMIT = 600_000 * SLOWDOWN;

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: LIMIT, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} → ${r.status}\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

/**
 * sh() without blocking this fork's event loop, for the steps that take long (a
 * build): vitest's own RPC from the fork gives up after 60 s without an answer
 * (see test/setup.ts), and a build beside CPU burners has taken most of that.
 */
async function shAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await spawnCollect(cmd, args, { ...opts, timeoutMs: LIMIT });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} → ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** npm pack of a directory into `work`; returns the tarball path and its file list. */
function pack(dir: string): { tarball: string; files: string[] } {
  const out = sh('npm', ['pack', dir, '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  return { tarball: join(work, info.filename), files: info.files.map((f: { path: string }) => f.path).sort() };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ktimers-pack-'));
  // The prebuild (rebuilt only when a native source is newer: `npm test` builds
  // it before vitest starts, so this is a check there) and dist/ (built by test:unit).
  sh(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), '--if-stale'], { cwd: root });
  expect(existsSync(join(root, 'dist', 'index.js'))).toBe(true);
  const main = pack(root);
  files = main.files;
  tarball = main.tarball;
  const deps = Object.keys(pkg.dependencies).map((name) => pack(join(root, 'node_modules', name)).tarball);
  project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  sh(
    'npm',
    ['install', '--offline', '--cache', join(work, 'empty-cache'), '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock',
      main.tarball, ...deps],
    { cwd: project },
  );
}, LIMIT * 2);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', { timeout: LIMIT }, () => {
  it('ships the prebuild, the native sources, dist (js + d.ts + source maps), README, LICENSE and package.json — nothing else', () => {
    const allowed = [
      /^package\.json$/, /^README\.md$/, /^LICENSE$/, /^binding\.gyp$/, /^native\/[\w-]+\.(cc|h)$/,
      /^prebuilds\/linux-x64\/ktimers\.glibc\.node$/, /^prebuilds\/linux-arm64\/ktimers\.glibc\.node$/,
      /^prebuilds\/linux-arm\/ktimers\.armv7\.glibc\.node$/, /^dist\/[\w/-]+\.(js|d\.ts|js\.map)$/, /^bin\/[\w-]+\.js$/,
    ];
    expect(files.filter((f) => !allowed.some((re) => re.test(f)))).toEqual([]);
    const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
    const sources = [...gyp.matchAll(/"(native\/[\w-]+\.cc)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(0);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'binding.gyp', ...prebuildFiles, ...sources]) {
      expect(files).toContain(f);
    }
    // Every entry point of "exports", with its types.
    for (const [key, v] of Object.entries(pkg.exports as Record<string, string | { types: string; default: string }>)) {
      if (typeof v === 'string') continue;
      expect(Object.keys(v)[0], `${key}: "types" must come first`).toBe('types');
      expect(files).toContain(v.default.slice(2));
      expect(files).toContain(v.types.slice(2));
    }
    // Every header the sources include is shipped (a rebuild from the tarball must compile).
    for (const f of files.filter((x) => x.startsWith('native/'))) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(/#include "([\w./-]+)"/g)) expect(files).toContain(`native/${m[1]}`);
    }
    for (const bin of Object.values((pkg.bin ?? {}) as Record<string, string>)) expect(files).toContain(bin.replace(/^\.\//, ''));
    expect(pkg.os).toEqual(['linux']);
  });

  it('every source map a shipped .js points at is shipped, and carries its sources (lib/ is not shipped)', () => {
    const js = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    for (const f of js) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(root, f), 'utf8'))?.[1];
      if (url === undefined) continue;
      const map = join(f, '..', url);
      expect(files, `${f} points at ${map}`).toContain(map);
      const m = JSON.parse(readFileSync(join(root, map), 'utf8'));
      expect(m.sourcesContent?.length, map).toBe(m.sources.length);
      expect(m.sourcesContent.every((c: unknown) => typeof c === 'string' && c.length > 0), map).toBe(true);
    }
  });

  it('the installed package has no build/: only the prebuild can load', () => {
    const dir = join(project, 'node_modules', 'ktimers');
    expect(existsSync(join(dir, hostPrebuild))).toBe(true);
    expect(existsSync(join(dir, 'build'))).toBe(false);
    expect(existsSync(join(dir, 'lib'))).toBe(false);
  });
});

/** Which ktimers.node the consumer process mapped (read from /proc/self/maps, not from what a loader says). */
const LOADED = `(await import('node:fs')).readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith('.node') && l.includes('/ktimers.')).map((l) => l.slice(l.indexOf('/')))[0]`;

describe('consumers of the installed tarball', { timeout: LIMIT }, () => {
  // Without KTIMERS_PREBUILD: `npm run test:asan` sets it to point the repository's loader at
  // build-asan/, and node-gyp-build would follow it here too instead of loading the tarball's prebuild.
  const { KTIMERS_PREBUILD: _, ...consumerEnv } = process.env;
  const node = (file: string, extra: string[] = []) => {
    const r = spawnSync(process.execPath, [...extra, file], { cwd: project, encoding: 'utf8', timeout: 60_000 * SLOWDOWN, env: consumerEnv });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const prebuild = () => realpathSync(join(project, 'node_modules', 'ktimers', hostPrebuild));

  it('ESM: import from ktimers, ktimers/promises and ktimers/testing; the prebuild is what loaded; the workqueue runs from the package', () => {
    // A work function of the consumer's own, importing ktimers: the pool worker that calls it must be the
    // installed package's dist/workqueue/worker.js (its frame is the caller's), and the addon it loads
    // (it pins per-CPU workers) the same prebuild: one ktimers.node mapped, the tarball's.
    writeFileSync(
      join(project, 'work.mjs'),
      `import { in_task, current_work } from 'ktimers';
export function tick(work) {
  const { out } = work.data;
  out[0] = in_task() && current_work() === work ? 1 : 2;
  out[1] = /\\/node_modules\\/ktimers\\/dist\\/workqueue\\/worker\\.js:/.test(new Error().stack) ? 1 : 2;
  Atomics.add(out, 2, 1);
}
`,
    );
    writeFileSync(
      join(project, 'esm.mjs'),
      `import * as k from 'ktimers';
import { sleep, interval } from 'ktimers/promises';
import { installVirtualClock } from 'ktimers/testing';
const t0 = k.ktime_get();
await sleep(k.ms(2));
const slept = k.ktime_get() - t0;
const fired = await new Promise((resolve) => {
  const t = new k.hrtimer();
  k.hrtimer_setup(t, () => { resolve(k.in_hardirq()); return k.HRTIMER_NORESTART; }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
  k.hrtimer_start(t, k.us(500), k.HRTIMER_MODE_REL);
});
// Three iterations; each yields its overrun count (>= 1, more when the machine is slow).
let ticks = 0, overruns = 0n;
for await (const o of interval(k.ms(1))) { overruns += o; if (++ticks === 3) break; }
const clock = installVirtualClock();
let at = -1n;
new k.HighResTimer(() => (at = k.ktime_get())).start(k.us(7));
clock.advanceNs(k.us(10));
clock.uninstall();
const wq = k.alloc_workqueue('consumer', 0, 0); // per-CPU: its worker pins itself through the addon
const w = new k.work_struct();
k.INIT_WORK(w, { module: new URL('./work.mjs', import.meta.url), name: 'tick' });
w.data = { out: new Int32Array(new SharedArrayBuffer(12)) };
const queued = k.queue_work(wq, w);
await k.flush_workqueue(wq);
await k.destroy_workqueue(wq);
const addons = [...new Set((await import('node:fs')).readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith('.node') && l.includes('/ktimers.')).map((l) => l.slice(l.indexOf('/'))))];
console.log(JSON.stringify({ loaded: ${LOADED}, slept: slept >= k.ms(2), fired, ticks, overrunsOk: overruns >= 3n, at: String(at),
  work: { queued, out: [...w.data.out], addons } }));
`,
    );
    expect(node('esm.mjs')).toEqual({
      loaded: prebuild(), slept: true, fired: true, ticks: 3, overrunsOk: true, at: '7000',
      work: { queued: true, out: [1, 1, 1], addons: [prebuild()] },
    });
  });

  it('CommonJS: require() of the ESM package (Node >= 20.19), every entry point', () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const k = require('ktimers');
const { sleep, AbortError } = require('ktimers/promises');
const { installVirtualClock } = require('ktimers/testing');
const legacy = require('ktimers/legacy');
const { monitorEventLoopDelay } = require('ktimers/perf_hooks');
(async () => {
  const ac = new AbortController();
  const p = sleep(k.s(10), { signal: ac.signal });
  ac.abort('stop');
  const err = await p.catch((e) => e);
  const clock = installVirtualClock();
  const t = new k.timer_list();
  let ran = 0;
  k.timer_setup(t, () => ran++, 0);
  k.mod_timer(t, k.get_jiffies_64() + k.msecs_to_jiffies(10));
  clock.advanceJiffies(k.msecs_to_jiffies(20));
  clock.uninstall();
  const loaded = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith('.node') && l.includes('/ktimers.')).map((l) => l.slice(l.indexOf('/')))[0];
  const entries = typeof legacy.init_timer === 'function' && legacy.mod_timer === k.mod_timer && monitorEventLoopDelay === k.monitorEventLoopDelay;
  console.log(JSON.stringify({ loaded, abort: err instanceof AbortError && err.code === 'ABORT_ERR' && err.cause === 'stop', ran, ns: String(k.us(1.5)), entries }));
})();
`,
    );
    expect(node('cjs.cjs', ['--no-warnings'])).toEqual({ loaded: prebuild(), abort: true, ran: 1, ns: '1500', entries: true });
  });

  it('the preload: node --import ktimers/loop-delay resolves from a consumer and reports at exit', () => {
    writeFileSync(join(project, 'app.mjs'), 'setTimeout(() => {}, 30);\n');
    const r = spawnSync(process.execPath, ['--import', 'ktimers/loop-delay', 'app.mjs'], {
      cwd: project,
      encoding: 'utf8',
      timeout: LIMIT,
      env: { ...process.env, KTIMERS_LOOP_DELAY_JSON: '-', KTIMERS_LOOP_DELAY_PERIOD_US: '1000' },
    });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(rep.period_ns).toBe(1_000_000);
    expect(rep.count).toBeGreaterThan(0);
  });

  it('TypeScript: a consumer type-checks against the shipped .d.ts, and its deliberate type errors are caught', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
          typeRoots: [join(root, 'node_modules', '@types')], types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { hrtimer, hrtimer_setup, hrtimer_start, hrtimer_forward_now, HRTIMER_RESTART, HRTIMER_MODE_REL, CLOCK_MONOTONIC,
  HighResTimer, ms, type ktime_t, type HrtimerCallback } from 'ktimers';
import { sleep, interval, type IntervalOptions } from 'ktimers/promises';
import { installVirtualClock, type VirtualClock } from 'ktimers/testing';

class Dev extends hrtimer { count = 0; }
const cb: HrtimerCallback<Dev> = (t) => { t.count++; hrtimer_forward_now(t, ms(1)); return HRTIMER_RESTART; };
const d = new Dev();
hrtimer_setup(d, cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
hrtimer_start(d, ms(1), HRTIMER_MODE_REL);
const period: ktime_t = ms(10);
const opts: IntervalOptions = { start: period, ref: false };
const it: AsyncIterableIterator<bigint> = interval(period, opts);
const p: Promise<void> = sleep(ms(1));
const h: HighResTimer = new HighResTimer((timer, overruns: bigint, deadline: bigint) => void timer.cancel()).start(ms(1));
const clock: VirtualClock = installVirtualClock();
const hasRef: boolean = h.hasRef();
// @ts-expect-error: a number has no unit, durations are bigint ns
sleep(10);
// @ts-expect-error: hrtimer_start needs a mode
hrtimer_start(d, ms(1));
// @ts-expect-error: overruns is a bigint
const wrong: number = h.overruns;
export { it, p, clock, hasRef, wrong };
`,
    );
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(project, 'tsconfig.json')], {
      cwd: project,
      encoding: 'utf8',
      timeout: LIMIT,
    });
    // Clean, including the @ts-expect-error lines: were the shipped types `any` (or
    // missing), those directives would be unused, itself an error (TS2578).
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('TypeScript, CommonJS: a .cts consumer require()s every entry point under moduleResolution node16, nodenext and bundler', async () => {
    writeFileSync(
      join(project, 'consumer.cts'),
      `import k = require('ktimers');
import promises = require('ktimers/promises');
import testing = require('ktimers/testing');
const period: k.ktime_t = k.ms(1);
const p: Promise<void> = promises.sleep(period);
const clock: testing.VirtualClock = testing.installVirtualClock();
const t = new k.hrtimer();
k.hrtimer_setup(t, () => k.HRTIMER_NORESTART, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
// @ts-expect-error: durations are bigint ns
promises.sleep(10);
export = { p, clock };
`,
    );
    // node16 resolution paired with module node20: require() of an ES module is Node >= 20.19's
    // (TypeScript's module node16/node18 model Nodes without it, below "engines": see the next case).
    const configs = [
      { module: 'Node20', moduleResolution: 'Node16' },
      { module: 'NodeNext', moduleResolution: 'NodeNext' },
      { module: 'Preserve', moduleResolution: 'Bundler' },
    ];
    // Asynchronous, so that vitest's worker stays responsive through four compiles; --skipLibCheck
    // because the shipped .d.ts themselves are checked by the case above.
    const tsc = (files: string[], c: { module: string; moduleResolution: string }) =>
      new Promise<string>((resolve) => {
        execFile(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--strict', '--noEmit', '--skipLibCheck',
          '--target', 'ES2022', '--module', c.module, '--moduleResolution', c.moduleResolution, '--types', 'node',
          '--typeRoots', join(root, 'node_modules', '@types'), ...files],
        { cwd: project, encoding: 'utf8', timeout: LIMIT }, (_err, stdout, stderr) => resolve(stdout + stderr));
      });
    for (const c of configs) expect(await tsc(['consumer.cts'], c), JSON.stringify(c)).toBe('');
    // module node16 (a Node without require(esm)) refuses `import = require` of the ES module, as it
    // should; a type-only import with resolution-mode still types a plain require() there.
    writeFileSync(
      join(project, 'node16.cts'),
      `const k: typeof import('ktimers', { with: { 'resolution-mode': 'import' } }) = require('ktimers');
const promises: typeof import('ktimers/promises', { with: { 'resolution-mode': 'import' } }) = require('ktimers/promises');
const p: Promise<void> = promises.sleep(k.ms(1));
// @ts-expect-error: durations are bigint ns
promises.sleep(10);
export = { p };
`,
    );
    const errors = (await tsc(['consumer.cts', 'node16.cts'], { module: 'Node16', moduleResolution: 'Node16' })).trim().split('\n');
    const found = errors.map((l) => /^(\S+?)\(\d+,\d+\): error (TS\d+)/.exec(l)?.slice(1).join(' '));
    expect(found).toContain('consumer.cts TS1471');
    expect(found.filter((e) => !e?.startsWith('consumer.cts ')), errors.join('\n')).toEqual([]);
  });

  it('@arethetypeswrong/cli finds nothing wrong with the tarball but what "ESM only" means by design', () => {
    // Its report goes to a file, not a pipe: attw ends with process.exit(1) when it finds a problem,
    // and a pipe's pending writes die with the process (Node >= 22 cut the report at 146 kB).
    const report = join(work, 'attw.json');
    const out = openSync(report, 'w');
    const r = spawnSync(process.execPath, [join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), tarball, '--format', 'json'],
      { cwd: work, encoding: 'utf8', timeout: LIMIT, stdio: ['ignore', out, 'pipe'] });
    closeSync(out);
    expect(r.error, r.stderr).toBeUndefined();
    const analysis = JSON.parse(readFileSync(report, 'utf8')).analysis;
    const problems = analysis.problems.map((p: { kind: string; entrypoint: string; resolutionKind: string }) => `${p.kind} ${p.entrypoint} ${p.resolutionKind}`);
    // CJSResolvesToESM under node16-cjs: a require() reaches the ES module, which Node >= 20.19 loads
    // (require(esm), the CommonJS case above); every other resolution (node10 through typesVersions) is clean.
    expect(problems.filter((p: string) => !p.startsWith('CJSResolvesToESM ') || !p.endsWith(' node16-cjs'))).toEqual([]);
    expect(Object.keys(analysis.entrypoints).sort()).toEqual(Object.keys(pkg.exports).sort());
  });

  it('on musl (node-gyp-build reads LIBC) the glibc prebuild is not chosen, and the load error says what to do', () => {
    writeFileSync(join(project, 'musl.mjs'), `try { await import('ktimers'); console.log(JSON.stringify({ loaded: true })); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
`);
    const r = spawnSync(process.execPath, ['musl.mjs'], { cwd: project, encoding: 'utf8', timeout: 60_000 * SLOWDOWN, env: { ...consumerEnv, LIBC: 'musl' } });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.code, r.stderr).toBe('ERR_KTIMERS_NO_BUILD');
    expect(out.message).toMatch(/no prebuild for linux-x64.*npm rebuild ktimers/s);
  });

  it('a prebuild needing a newer glibc than the machine has fails to load with a message that says so', () => {
    // A copy of the installed package whose prebuild asks for GLIBC_2.99: the dynamic loader's own
    // refusal, as an armv7 Node on glibc 2.31 (Debian bullseye) meets the GLIBC_2.34 of that prebuild.
    const old = join(work, 'old-glibc');
    cpSync(join(project, 'node_modules'), join(old, 'node_modules'), { recursive: true });
    const so = join(old, 'node_modules', 'ktimers', hostPrebuild);
    const bytes = readFileSync(so);
    const at = bytes.indexOf('GLIBC_2.17\0');
    expect(at).toBeGreaterThan(0);
    bytes.write('GLIBC_2.99', at, 'latin1');
    writeFileSync(so, bytes);
    writeFileSync(join(old, 'package.json'), JSON.stringify({ name: 'old', private: true, type: 'module' }));
    writeFileSync(join(old, 'load.mjs'), `try { await import('ktimers'); console.log(JSON.stringify({ loaded: true })); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
`);
    const r = spawnSync(process.execPath, ['load.mjs'], { cwd: old, encoding: 'utf8', timeout: 60_000 * SLOWDOWN, env: consumerEnv });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.code, r.stderr).toBe('ERR_KTIMERS_GLIBC_TOO_OLD');
    expect(out.message).toMatch(/needs GLIBC_2\.99, which this system's C library does not have.*--build-from-source/s);
  });

  // Last: it adds a build/ that node-gyp-build then prefers over the prebuild.
  it('the shipped sources rebuild the addon with node-gyp (no header download), and that build loads', async () => {
    const dir = join(project, 'node_modules', 'ktimers');
    const nodedir = process.env.npm_config_nodedir || join(process.execPath, '..', '..');
    await shAsync(process.execPath, [ join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'), 'rebuild'], {
      cwd: dir,
      env: { ...process.env, npm_config_nodedir: nodedir },
    });
    const built = realpathSync(join(dir, 'build', 'Release', 'ktimers.node'));
    writeFileSync(
      join(project, 'rebuilt.mjs'),
      `import * as k from 'ktimers';
const t0 = k.ktime_get();
await new Promise((resolve) => new k.HighResTimer(resolve).start(k.us(200)));
console.log(JSON.stringify({ loaded: ${LOADED}, waited: k.ktime_get() - t0 >= k.us(200) }));
`,
    );
    expect(node('rebuilt.mjs')).toEqual({ loaded: built, waited: true });
  }, LIMIT);
});
