// Builds the N-API prebuild that the package ships: prebuilds/linux-x64/ktimers.node.
//
//   node scripts/prebuild.mjs              (npm run prebuild; also run by prepack)
//   node scripts/prebuild.mjs --if-stale   skip when the prebuild is newer than every native source
//
// Why not plain `prebuildify` in the checkout: it runs `node-gyp rebuild` in
// ./build, which deletes the build/Release/ktimers.node that tests and
// examples load (and that a concurrent test run may be loading right now). So
// the sources are copied to a scratch directory and built there; only the
// finished binary lands in prebuilds/.
//
// No header download: N-API is ABI-stable across Node versions, so the
// running Node's own headers (<prefix>/include/node) build a binary that
// loads on every Node with N-API 8 (>= 20.19 here, see "engines"). If
// npm_config_nodedir is set (npm config nodedir=…), that wins.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'ktimers.node');
const sources = [join(root, 'binding.gyp'), ...readdirSync(join(root, 'native')).map((f) => join(root, 'native', f))];

if (process.argv.includes('--if-stale') && existsSync(out)) {
  const built = statSync(out).mtimeMs;
  if (sources.every((f) => statSync(f).mtimeMs < built)) {
    console.log(`prebuild up to date: ${out}`);
    process.exit(0);
  }
}

const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath));
  if (!existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    console.error(`no Node headers under ${prefix}/include/node and no npm_config_nodedir: refusing to download them`);
    process.exit(1);
  }
  env.npm_config_nodedir = prefix;
}

const scratch = mkdtempSync(join(tmpdir(), 'ktimers-prebuild-'));
try {
  cpSync(join(root, 'binding.gyp'), join(scratch, 'binding.gyp'));
  cpSync(join(root, 'native'), join(scratch, 'native'), { recursive: true });
  cpSync(join(root, 'package.json'), join(scratch, 'package.json'));
  // binding.gyp asks node-addon-api for its include dir, resolved from the build directory.
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  const prebuildify = join(root, 'node_modules', 'prebuildify', 'bin.js');
  const r = spawnSync(
    process.execPath,
    [prebuildify, '--napi', '--strip', '--target', 'node@20.19.0', '--cwd', scratch, '--out', root],
    { env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    console.error(`prebuildify failed (status ${r.status})`);
    process.exit(1);
  }
  console.log(`built ${out}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
