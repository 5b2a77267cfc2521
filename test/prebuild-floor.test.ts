// Each prebuild's symbol floor (docs/prebuilds.md): the highest GLIBC and
// GLIBCXX versions its dynamic symbols need, read from the ELF file itself,
// against the oldest C library each is promised to load on. And that each is
// built for the machine its folder names: the ELF machine, armv7's hard-float
// ABI, and armv7's 64-bit time_t (the *64 symbols of glibc >= 2.34).
//
// The prebuilds are those `npm test` built before vitest started
// (scripts/prebuild.mjs --if-stale): linux-x64 always, the arm ones where their
// cross toolchains are installed (`npm run prebuild` and `npm run test:cross`
// install them). A missing arm prebuild is skipped, and said so.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

// Floors: no higher than the oldest vendor-supported distributions need. GLIBC 2.28 and GLIBCXX
// 3.4.25 (GCC 8) are RHEL 8's and Debian 10's, and glibc 2.28 is also what Node 20's own Linux
// binaries need, so x64 and arm64 may not ask for more than Node itself does. armv7 needs 2.34 by
// choice: the 64-bit time_t (__timerfd_settime64 & co arrived in glibc 2.34: Debian 12, Raspberry Pi
// OS bookworm, Ubuntu 22.04; not Debian 11 bullseye, whose 2.31 gets the load error of lib/binding.ts).
const PREBUILDS = [
  { file: 'prebuilds/linux-x64/ktimers.glibc.node', machine: 62 /* EM_X86_64 */, elf64: true, glibc: '2.28', glibcxx: '3.4.25' },
  { file: 'prebuilds/linux-arm64/ktimers.glibc.node', machine: 183 /* EM_AARCH64 */, elf64: true, glibc: '2.28', glibcxx: '3.4.25' },
  { file: 'prebuilds/linux-arm/ktimers.armv7.glibc.node', machine: 40 /* EM_ARM */, elf64: false, glibc: '2.34', glibcxx: '3.4.25' },
];

/** Compares dotted versions numerically ("2.17" < "2.3.4" is false: 17 > 3). */
const cmp = (a: string, b: string) => {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

interface Elf { elf64: boolean; machine: number; flags: number; needs: string[]; dynsym: string[] }

/**
 * Reads the ELF header, the version needs (.gnu.version_r: every "GLIBC_x" the file asks its
 * libraries for) and the dynamic symbol names; little-endian only (every target here is).
 */
function readElf(path: string): Elf {
  const b = readFileSync(path);
  expect(b.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  const elf64 = b[4] === 2;
  const u16 = (o: number) => b.readUInt16LE(o);
  const u32 = (o: number) => b.readUInt32LE(o);
  const addr = (o: number) => (elf64 ? Number(b.readBigUInt64LE(o)) : u32(o));
  const machine = u16(18);
  const flags = u32(elf64 ? 48 : 36);
  const shoff = addr(elf64 ? 40 : 32), shentsize = u16(elf64 ? 58 : 46), shnum = u16(elf64 ? 60 : 48);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return { type: u32(o + 4), offset: addr(o + (elf64 ? 24 : 16)), size: addr(o + (elf64 ? 32 : 20)), link: u32(o + (elf64 ? 40 : 24)), entsize: addr(o + (elf64 ? 56 : 36)) };
  });
  const str = (sec: { offset: number }, at: number) => b.toString('latin1', sec.offset + at, b.indexOf(0, sec.offset + at));
  const needs: string[] = [];
  const verneed = sections.find((s) => s.type === 0x6ffffffe); // SHT_GNU_verneed
  if (verneed) {
    const strtab = sections[verneed.link]!;
    for (let o = verneed.offset; ; ) {
      const cnt = u16(o + 2), aux = u32(o + 8), next = u32(o + 12);
      for (let a = o + aux, i = 0; i < cnt; i++) {
        needs.push(str(strtab, u32(a + 8)));
        const an = u32(a + 12);
        if (an === 0) break;
        a += an;
      }
      if (next === 0) break;
      o += next;
    }
  }
  const dynsym: string[] = [];
  const ds = sections.find((s) => s.type === 11); // SHT_DYNSYM
  if (ds) {
    const strtab = sections[ds.link]!;
    for (let o = ds.offset; o < ds.offset + ds.size; o += ds.entsize) dynsym.push(str(strtab, u32(o)));
  }
  return { elf64, machine, flags, needs, dynsym };
}

const highest = (needs: string[], prefix: string) =>
  needs.filter((n) => n.startsWith(`${prefix}_`)).map((n) => n.slice(prefix.length + 1)).sort(cmp).pop();

describe('prebuild symbol floors', () => {
  for (const p of PREBUILDS) {
    const path = join(root, p.file);
    const host = p.file.startsWith(`prebuilds/linux-${process.arch}/`);
    // The host's prebuild must be there (npm test builds it); a cross one only where its toolchain was.
    it.skipIf(!host && !existsSync(path))(`${p.file}: GLIBC <= ${p.glibc}, GLIBCXX <= ${p.glibcxx}, built for its machine`, () => {
      expect(existsSync(path), `${p.file} (run npm run prebuild)`).toBe(true);
      const elf = readElf(path);
      expect(elf.elf64).toBe(p.elf64);
      expect(elf.machine).toBe(p.machine);
      const glibc = highest(elf.needs, 'GLIBC'), glibcxx = highest(elf.needs, 'GLIBCXX');
      expect(glibc, `${p.file} needs ${elf.needs.join(' ')}`).toBeDefined();
      expect(cmp(glibc!, p.glibc), `${p.file} needs GLIBC_${glibc}`).toBeLessThanOrEqual(0);
      if (glibcxx !== undefined) expect(cmp(glibcxx, p.glibcxx), `${p.file} needs GLIBCXX_${glibcxx}`).toBeLessThanOrEqual(0);
      if (p.machine === 40) {
        // EF_ARM_ABI_FLOAT_HARD: the armhf calling convention of Raspberry Pi OS and Debian armhf.
        expect(elf.flags & 0x400).toBe(0x400);
        // The 64-bit time_t: the clock and timerfd calls are glibc's *64 ones, and nothing of the
        // 32-bit ones is left (a CLOCK_REALTIME deadline past 2038 must not reach a 32-bit timerfd_settime).
        expect(elf.dynsym).toEqual(expect.arrayContaining(['__timerfd_settime64', '__clock_gettime64']));
        expect(elf.dynsym.filter((s) => /^(timerfd_settime|timerfd_gettime|clock_gettime|clock_getres|clock_nanosleep)$/.test(s))).toEqual([]);
        expect(glibc).toBe('2.34');
      }
    });
  }
});
