// The README's main job (npm start) runs and reports sane figures.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('examples/periodic-hrtimer.js runs a 1 kHz hrtimer for 1 s with no early expiry', () => {
  const script = fileURLToPath(new URL('../examples/periodic-hrtimer.js', import.meta.url));
  const r = spawnSync(process.execPath, [script, '1', '1000'], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(0);
  const m = /(\d+) expiries, (\d+) overruns, (\d+) early/.exec(r.stdout);
  expect(m).not.toBeNull();
  const [expiries, overruns, early] = [Number(m![1]), Number(m![2]), Number(m![3])];
  expect(early).toBe(0);
  // 1000 periods in 1 s: each is either run or counted as an overrun.
  expect(expiries + overruns).toBeGreaterThanOrEqual(990);
  expect(expiries + overruns).toBeLessThanOrEqual(1010);
  expect(r.stdout).toMatch(/lateness: min +[\d.]+ us +p50 +[\d.]+ us/);
});
