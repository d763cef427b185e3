// Number formatting shared by the panels.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB"; whole numbers keep no decimals. */
export function formatBytes(bytes: number): string {
  let x = bytes;
  let u = 0;
  while (x >= 1024 && u < BYTE_UNITS.length - 1) {
    x /= 1024;
    u++;
  }
  return `${Number.isInteger(x) ? x : x.toFixed(1)} ${BYTE_UNITS[u]}`;
}

/** 494032768 → "494.0 M"; small counts stay exact. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return n.toLocaleString('en-US');
}

export function formatRate(perSec: number): string {
  return perSec >= 100 ? perSec.toFixed(0) : perSec.toFixed(1);
}

/** 4200 → "4 s", 192000 → "3 min 12 s", 7.5 h → "7 h 30 min". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
