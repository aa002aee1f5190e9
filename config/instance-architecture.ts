/**
 * The CPU architecture of an EC2 instance type, so that the AMI parameter follows the
 * type. Graviton families carry a "g" right after the generation digit (t4g, m7gd,
 * c6gn, im4gn, x2gd); a1 is the first-generation Graviton. GPU families start with
 * "g" (g4dn, g5) and are x86_64, which the rule leaves alone.
 */
export type Architecture = 'arm64' | 'x86_64';

const GRAVITON_FAMILY = /^[a-z]+\d+g[a-z]*$/;

export function architectureOfInstanceType(instanceType: string): Architecture {
  const family = instanceType.split('.')[0].replace(/-flex$/, '');
  return family === 'a1' || GRAVITON_FAMILY.test(family) ? 'arm64' : 'x86_64';
}
