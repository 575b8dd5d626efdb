/**
 * "Did you mean": the known name closest to a misspelt one, for error messages.
 */

/** Edit distance between two strings (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `name` when it is close enough to be a typo (at most a third of its length
 * apart, case ignored), else undefined.
 *
 * @example
 * closestName('prodcuts', ['products', 'orders']) // 'products'
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = Math.max(1, Math.floor(name.length / 3));
  return best !== name && bestDistance <= allowed ? best : undefined;
}

/** `; did you mean "x"?` when a candidate is close to `name`, else an empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const found = closestName(name, candidates);
  return found === undefined ? '' : `; did you mean "${found}"?`;
}
