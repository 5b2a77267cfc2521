/**
 * `--plot`: a self-contained SVG, written by hand (no plotting dependency).
 *
 * Two panels, one colour per API:
 *  - histogram: samples per latency bin, both axes log scale (counts: the tail
 *    is the interesting part and spans decades; latency: an hrtimer at tens of
 *    us and setTimeout at a millisecond must both be readable), 20 bins per
 *    decade over the 1 us buckets; a legend line per run with its percentiles
 *    and whatever lies beyond the axis;
 *  - trace: latency over the run, log-scale latency axis. Runs are long, so each
 *    pixel column shows the min..max of its samples (an envelope, like an
 *    oscilloscope's peak-detect mode): every spike stays visible.
 * Everything is plain SVG 1.1 (paths, lines, text), readable in any browser.
 */
import type { RunRecord } from './report.js';
import { runLabel, runStats } from './report.js';

const W = 960;
const PANEL_H = 300;
const M = { left: 70, right: 20, top: 50, bottom: 45 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" number >= x: 1, 2 or 5 times a power of ten. */
export function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

interface Panel {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

function axes(p: Panel, title: string, xlabel: string, ylabel: string): string[] {
  return [
    `<text x="${p.x0}" y="${p.y0 - 12}" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${p.x0}" y="${p.y0}" width="${p.w}" height="${p.h}" fill="none" stroke="#333"/>`,
    `<text x="${p.x0 + p.w / 2}" y="${p.y0 + p.h + 36}" text-anchor="middle">${esc(xlabel)}</text>`,
    `<text x="${p.x0 - 52}" y="${p.y0 + p.h / 2}" text-anchor="middle" transform="rotate(-90 ${p.x0 - 52} ${p.y0 + p.h / 2})">${esc(ylabel)}</text>`,
  ];
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi; e++) if (10 ** e >= lo) out.push(10 ** e);
  return out;
}

/** Log-spaced bin edges in whole us (the buckets are 1 us): 1, 2, ..., 10, 12, 13, 15, ... up to `hi`. */
export function logEdges(hi: number, perDecade = 20): number[] {
  const edges = [1];
  for (let k = 1; edges[edges.length - 1]! < hi; k++) {
    const v = Math.ceil(10 ** (k / perDecade));
    if (v > edges[edges.length - 1]!) edges.push(v);
  }
  return edges;
}

function histogramPanel(runs: RunRecord[], p: Panel): string[] {
  const out = axes(p, 'Latency histogram', 'latency (us, log scale; 20 bins per decade)', 'samples per bin (log scale)');
  // Both axes are logarithmic: an hrtimer (tens of us) and setTimeout (about a
  // ms) must both be readable side by side, and the tail spans decades of count.
  let maxUs = 10;
  for (const r of runs) if (r.rec.count > 0) maxUs = Math.max(maxUs, r.rec.max / 1000);
  const hiUs = Math.min(niceCeil(maxUs), Math.max(10, ...runs.map((r) => r.rec.histUs)));
  const edges = logEdges(hiUs);
  const top = edges[edges.length - 1]!;
  const nb = edges.length - 1;
  const series = runs.map((r) => {
    const c = new Float64Array(nb);
    const b = r.rec.buckets;
    let k = 0;
    // Bucket 0 (under 1 us, and early callbacks) goes to the first bin.
    for (let i = 0; i < Math.min(b.length, top); i++) {
      while (k + 1 < nb && i >= edges[k + 1]!) k++;
      c[k]! += b[i]!;
    }
    return c;
  });
  const ymax = niceCeil(Math.max(10, ...series.map((c) => Math.max(...c))));
  const X = (us: number) => p.x0 + (Math.log10(us) / Math.log10(top)) * p.w;
  const Y = (n: number) => p.y0 + p.h - (Math.log10(Math.max(n, 1)) / Math.log10(ymax)) * p.h;
  for (const t of logTicks(1, ymax)) {
    out.push(`<line x1="${p.x0}" x2="${p.x0 + p.w}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${p.x0 - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  xLogTicks(out, p, 1, top, X);
  series.forEach((c, k) => {
    // A step outline: flat across each bin, down to the axis where a bin is empty.
    let d = `M${X(1).toFixed(1)},${Y(0).toFixed(1)}`;
    for (let i = 0; i < nb; i++) {
      const y = Y(c[i]!).toFixed(1);
      d += ` L${X(edges[i]!).toFixed(1)},${y} L${X(edges[i + 1]!).toFixed(1)},${y}`;
    }
    d += ` L${X(top).toFixed(1)},${Y(0).toFixed(1)}`;
    out.push(`<path class="series" data-api="${esc(runs[k]!.api)}" data-thread="${runs[k]!.thread ?? 'main'}" d="${d}" fill="${COLORS[k % COLORS.length]}" fill-opacity="0.15" stroke="${COLORS[k % COLORS.length]}" stroke-width="1.3"/>`);
  });
  // Legend, under the axis label: label, percentiles, and what lies beyond the axis.
  runs.forEach((r, k) => {
    const s = runStats(r);
    const beyond = r.rec.count - sumBelow(r, top);
    const L = s.latency_ns;
    const text = `${runLabel(r)}: ${s.samples} samples` +
      (L ? `, min ${(L.min / 1000).toFixed(1)}, p50 ${(L.p50 / 1000).toFixed(1)}, p99 ${(L.p99 / 1000).toFixed(1)}, ` +
        `p99.9 ${(L.p99_9 / 1000).toFixed(1)}, max ${(L.max / 1000).toFixed(1)} us` : '') +
      (r.rec.early > 0 ? `; ${r.rec.early} early (in the first bin)` : '') +
      (beyond > 0 ? `; ${beyond} beyond ${fmt(top)} us` : '');
    const y = p.y0 + p.h + 58 + k * 17;
    out.push(`<rect class="legend" x="${p.x0}" y="${y - 10}" width="12" height="12" fill="${COLORS[k % COLORS.length]}"/>`);
    out.push(`<text x="${p.x0 + 18}" y="${y}" font-size="12">${esc(text)}</text>`);
  });
  return out;
}

/** Decade ticks with labels, and 2x / 5x minor grid lines. */
function xLogTicks(out: string[], p: Panel, lo: number, hi: number, X: (v: number) => number): void {
  for (let d = lo; d <= hi; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi) break;
      const x = X(v).toFixed(1);
      out.push(`<line x1="${x}" x2="${x}" y1="${p.y0}" y2="${p.y0 + p.h}" stroke="${m === 1 ? '#ddd' : '#f0f0f0'}"/>`);
      out.push(`<line x1="${x}" x2="${x}" y1="${p.y0 + p.h}" y2="${p.y0 + p.h + 5}" stroke="#333"/>`);
      out.push(`<text x="${x}" y="${p.y0 + p.h + 18}" text-anchor="middle" font-size="${m === 1 ? 11 : 9}">${fmt(v)}</text>`);
    }
  }
}

function sumBelow(r: RunRecord, us: number): number {
  let n = 0;
  const b = r.rec.buckets;
  for (let i = 0; i < Math.min(us, b.length); i++) n += b[i]!;
  return n;
}

function tracePanel(runs: RunRecord[], p: Panel): string[] {
  const out = axes(p, 'Latency over time', 'time since the first expiry (s)', 'latency (us, log scale)');
  let tmax = 0;
  let lmax = 1;
  for (const r of runs) {
    const n = r.rec.traceLen;
    if (n > 0) tmax = Math.max(tmax, r.rec.traceT![n - 1]!);
    if (r.rec.count > 0) lmax = Math.max(lmax, r.rec.max / 1000);
  }
  if (tmax <= 0) tmax = 1;
  const lo = 0.1;
  const hi = niceCeil(lmax);
  const X = (t: number) => p.x0 + (t / tmax) * p.w;
  const Y = (l: number) => p.y0 + p.h - ((Math.log10(Math.max(l, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * p.h;
  for (const t of logTicks(lo, hi)) {
    out.push(`<line x1="${p.x0}" x2="${p.x0 + p.w}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${p.x0 - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  const xstep = niceCeil(tmax / 10);
  for (let v = 0; v <= tmax + 1e-9; v += xstep) {
    out.push(`<line x1="${X(v).toFixed(1)}" x2="${X(v).toFixed(1)}" y1="${p.y0 + p.h}" y2="${p.y0 + p.h + 5}" stroke="#333"/>`);
    out.push(`<text x="${X(v).toFixed(1)}" y="${p.y0 + p.h + 18}" text-anchor="middle" font-size="11">${fmt(+v.toFixed(6))}</text>`);
  }
  runs.forEach((r, k) => {
    const n = r.rec.traceLen;
    if (n === 0) return;
    const cols = Math.round(p.w);
    const mn = new Float64Array(cols).fill(Infinity);
    const mx = new Float64Array(cols).fill(-Infinity);
    const T = r.rec.traceT!;
    const Lt = r.rec.traceL!;
    for (let i = 0; i < n; i++) {
      const c = Math.min(cols - 1, Math.floor((T[i]! / tmax) * cols));
      const v = Lt[i]!;
      if (v < mn[c]!) mn[c] = v;
      if (v > mx[c]!) mx[c] = v;
    }
    let d = '';
    for (let c = 0; c < cols; c++) {
      if (mx[c] === -Infinity) continue;
      const x = (p.x0 + c + 0.5).toFixed(1);
      // A column with one distinct value still gets a visible 1 px mark.
      const y1 = Y(mn[c]!);
      const y2 = Math.min(Y(mx[c]!), y1 - 1);
      d += `M${x},${y1.toFixed(1)}V${y2.toFixed(1)}`;
    }
    out.push(`<path class="series" data-api="${esc(r.api)}" data-thread="${r.thread ?? 'main'}" d="${d}" stroke="${COLORS[k % COLORS.length]}" stroke-opacity="0.7" fill="none"/>`);
  });
  return out;
}

export interface PlotMeta {
  title: string;
  /** one or two lines of conditions under the title */
  subtitle: string[];
}

export function renderSvg(runs: RunRecord[], meta: PlotMeta): string {
  const legendH = 30 + runs.length * 17;
  const pw = W - M.left - M.right;
  const hist: Panel = { x0: M.left, y0: M.top + 50, w: pw, h: PANEL_H };
  const trace: Panel = { x0: M.left, y0: hist.y0 + PANEL_H + M.bottom + legendH + 40, w: pw, h: PANEL_H };
  const H = trace.y0 + PANEL_H + M.bottom + 10;
  const body = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13">`,
    `<title>${esc(meta.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="24" font-size="17" font-weight="bold">${esc(meta.title)}</text>`,
    ...meta.subtitle.slice(0, 2).map((line, i) => `<text x="${M.left}" y="${44 + i * 15}" font-size="12" fill="#555">${esc(line)}</text>`),
    `<g class="histogram">`,
    ...histogramPanel(runs, hist),
    `</g>`,
    `<g class="trace">`,
    ...tracePanel(runs, trace),
    `</g>`,
    `</svg>`,
  ];
  return body.join('\n') + '\n';
}
