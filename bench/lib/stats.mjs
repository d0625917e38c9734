// Small statistics helpers for combining rounds.

/** Median of the finite numbers in `values`, or NaN when there are none. */
export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/** Relative spread of the rounds: (max - min) / median, so a reader can see how noisy a figure is. */
export function spread(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length < 2) return NaN;
  const m = median(finite);
  return m ? (Math.max(...finite) - Math.min(...finite)) / Math.abs(m) : NaN;
}

/** Human-readable number: 265123 -> "265k", 1.234 -> "1.23". */
export function human(value, digits = 3) {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(digits)}M`;
  if (abs >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (abs >= 1e3) return `${(value / 1e3).toPrecision(digits)}k`;
  return `${Number(value.toPrecision(digits))}`;
}

/** Bytes as "2.7 KB" (1 KB = 1000 bytes). */
export function kb(bytes) {
  if (!Number.isFinite(bytes)) return '-';
  return `${(bytes / 1000).toFixed(bytes < 10_000 ? 2 : 1)} KB`;
}
