// What the benches share: their command line (`--name value` flags) and percentiles.

export const argv = process.argv.slice(2);

/** The value after `name` on the command line, or `dflt`. */
export const flag = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};

/** The p-th percentile of `xs` (unsorted; nearest rank). */
export const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
