/**
 * The one byte-size format of venvoy, in every table and message: SI units (powers of
 * 1000: B, kB, MB, GB, TB), like `df -H` and most download tools.
 */
const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** 1234567 -> "1.2 MB"; 12345678 -> "12 MB". */
export function formatBytes(n: number): string {
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}
