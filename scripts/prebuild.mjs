// Builds the N-API prebuilds that the package ships (docs/prebuilds.md):
//
//   prebuilds/linux-x64/ktimers.glibc.node          on the x64 host, with its own compiler
//   prebuilds/linux-arm64/ktimers.glibc.node        aarch64, Debian's aarch64-linux-gnu cross toolchain
//   prebuilds/linux-arm/ktimers.armv7.glibc.node    armv7 hard-float, 64-bit time_t, arm-linux-gnueabihf
//
//   node scripts/prebuild.mjs              (npm run prebuild; also run by prepack) every target; a
//                                          missing cross toolchain is installed with apt-get
//   node scripts/prebuild.mjs --if-stale   (npm test) only targets older than a native source, and the
//                                          cross ones only where their toolchain is already installed:
//                                          a test run never installs packages
//   --only=x64,arm64,arm                   a subset
//
// The names carry node-gyp-build's tags so each binary is picked on its machine
// and never on another: "glibc" keeps them all off musl (Alpine builds from
// source), "armv7" keeps the arm one off an armv6 Node (Pi Zero/1).
//
// Why not plain `prebuildify` in the checkout: it runs `node-gyp rebuild` in
// ./build, which deletes the build/Release/ktimers.node that tests and
// examples load (and that a concurrent test run may be loading right now). So
// the sources are copied to a scratch directory and built there; only the
// finished binary lands in prebuilds/.
//
// No header download: N-API is ABI-stable across Node versions and
// architectures, so the running Node's own headers (<prefix>/include/node)
// build a binary that loads on every Node with N-API 8 (>= 20.19 here, see
// "engines"), x64 or arm. If npm_config_nodedir is set, that wins.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every prebuild the package ships; `triple` is the Debian cross toolchain's prefix (none: the host's compiler). */
export const TARGETS = [
  { arch: 'x64', file: 'ktimers.glibc.node', args: [] },
  { arch: 'arm64', file: 'ktimers.glibc.node', triple: 'aarch64-linux-gnu', apt: 'crossbuild-essential-arm64', args: [] },
  // binding.gyp adds _TIME_BITS=64 for target_arch arm: a 32-bit time_t cannot hold a CLOCK_REALTIME deadline past 2038.
  { arch: 'arm', file: 'ktimers.armv7.glibc.node', triple: 'arm-linux-gnueabihf', apt: 'crossbuild-essential-armhf', args: ['--armv', '7', '--tag-armv'] },
];
export const prebuildPath = (t) => join(root, 'prebuilds', `linux-${t.arch}`, t.file);

const which = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

function main() {
  const ifStale = process.argv.includes('--if-stale');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  if (process.arch !== 'x64') {
    // Debian's cross toolchains are amd64 packages; elsewhere build just the host's own.
    console.log(`host is ${process.arch}: building only prebuilds/linux-${process.arch}/`);
  }
  let targets = TARGETS.filter((t) => (only ? only.includes(t.arch) : true));
  if (process.arch !== 'x64') targets = targets.filter((t) => t.arch === process.arch).map((t) => ({ ...t, triple: undefined }));

  const sources = [join(root, 'binding.gyp'), ...readdirSync(join(root, 'native')).map((f) => join(root, 'native', f))];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));

  const env = { ...process.env };
  if (!env.npm_config_nodedir) {
    const prefix = dirname(dirname(process.execPath));
    if (!existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
      console.error(`no Node headers under ${prefix}/include/node and no npm_config_nodedir: refusing to download them`);
      process.exit(1);
    }
    env.npm_config_nodedir = prefix;
  }

  for (const t of targets) {
    const out = prebuildPath(t);
    if (ifStale && existsSync(out) && statSync(out).mtimeMs > newest) {
      console.log(`prebuild up to date: ${out}`);
      continue;
    }
    if (t.triple && !which(`${t.triple}-g++`)) {
      if (ifStale) {
        console.log(`prebuild skipped: no ${t.triple}-g++ (apt-get install ${t.apt}; npm run prebuild installs it)`);
        continue;
      }
      installToolchain(t);
    }
    build(t, env);
  }
}

function installToolchain(t) {
  console.log(`installing ${t.apt} (for ${t.triple}-g++) with apt-get`);
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args) => spawnSync(asRoot.length ? 'sudo' : args[0], asRoot.length ? args : args.slice(1), {
    stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  let r = run(['apt-get', 'install', '-y', '--no-install-recommends', t.apt]);
  if (r.status !== 0) {
    run(['apt-get', 'update']);
    r = run(['apt-get', 'install', '-y', '--no-install-recommends', t.apt]);
  }
  if (r.status !== 0 || !which(`${t.triple}-g++`)) {
    console.error(`could not install ${t.apt}: the linux-${t.arch} prebuild needs ${t.triple}-g++ (Debian/Ubuntu, amd64 host)`);
    process.exit(1);
  }
}

function build(t, env) {
  const scratch = mkdtempSync(join(tmpdir(), `ktimers-prebuild-${t.arch}-`));
  const t0 = Date.now();
  try {
    cpSync(join(root, 'binding.gyp'), join(scratch, 'binding.gyp'));
    cpSync(join(root, 'native'), join(scratch, 'native'), { recursive: true });
    cpSync(join(root, 'package.json'), join(scratch, 'package.json'));
    // binding.gyp asks node-addon-api for its include dir, resolved from the build directory.
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
    const cross = t.triple
      ? { CC: `${t.triple}-gcc`, CXX: `${t.triple}-g++`, LINK: `${t.triple}-g++`, AR: `${t.triple}-ar`, PREBUILD_STRIP_BIN: `${t.triple}-strip` }
      : {};
    const prebuildify = join(root, 'node_modules', 'prebuildify', 'bin.js');
    const r = spawnSync(
      process.execPath,
      [prebuildify, '--napi', '--strip', '--target', 'node@20.19.0', '--arch', t.arch, ...t.args,
        '--libc', 'glibc', '--tag-libc', '--cwd', scratch, '--out', root],
      { env: { ...env, ...cross }, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
    );
    if (r.status !== 0 || !existsSync(prebuildPath(t))) {
      process.stdout.write(r.stdout ?? '');
      console.error(`prebuildify failed for linux-${t.arch} (status ${r.status})`);
      process.exit(1);
    }
    // A prebuild of an older name (before the libc tag) would be picked up beside the new one.
    for (const f of readdirSync(dirname(prebuildPath(t)))) {
      if (f !== t.file) rmSync(join(dirname(prebuildPath(t)), f), { force: true });
    }
    console.log(`built ${prebuildPath(t)} (${statSync(prebuildPath(t)).size} bytes, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
