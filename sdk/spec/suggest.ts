/**
 * "Did you mean …?": the closest of a list of known words to a misspelled
 * one, by edit distance, so a problem can name the word the user meant.
 */

/**
 * Edit distance between `a` and `b` counting insertions, deletions,
 * substitutions and swaps of two neighbours (`memroy` → `memory` is 1).
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/** A word's singular, roughly: `localities` → `locality`, `regions` → `region`. */
function singular(word: string): string {
  if (word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  return word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word;
}

/**
 * The known word closest to `word`, when it is close enough to be a typo of
 * it: a different case or number (`locality` for `localities`), or at most
 * one edit per three characters (at least one, at most three). Undefined
 * when nothing is that close.
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const allowed = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    const distance = singular(other) === singular(lower) ? 0 : editDistance(lower, other);
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { word: candidate, distance };
  }
  return best?.word;
}

/** `; did you mean "x"?` for the closest known word, or an empty string. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const suggestion = closest(word, known);
  return suggestion === undefined ? "" : `; did you mean "${suggestion}"?`;
}
