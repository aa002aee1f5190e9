/**
 * The EC2 instance types that exist, from the AWS SDK's own model (`_InstanceType` of
 * @aws-sdk/client-ec2, updated with every SDK release), so that `t4g.smal` stops synthesis
 * instead of failing at apply. Loaded on first use: the client module is large.
 */
let known: ReadonlySet<string> | undefined;

export function knownInstanceTypes(): ReadonlySet<string> {
  if (!known) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { _InstanceType } = require('@aws-sdk/client-ec2') as { _InstanceType: Record<string, string> };
    known = new Set(Object.values(_InstanceType));
  }
  return known;
}

/** The known types nearest to `type` by edit distance (all at the smallest distance, up to `count`), for "did you mean". */
export function closestInstanceTypes(type: string, count = 3): string[] {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i += 1) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j += 1) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  const scored = [...knownInstanceTypes()].map((candidate) => ({ candidate, d: distance(type, candidate) })).filter(({ d }) => d <= 3);
  const best = Math.min(...scored.map(({ d }) => d));
  return scored
    .filter(({ d }) => d === best)
    .map(({ candidate }) => candidate)
    .sort()
    .slice(0, count);
}
