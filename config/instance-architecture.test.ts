import { architectureOfInstanceType } from './instance-architecture';

describe('architectureOfInstanceType', () => {
  it.each(['t4g.small', 'm7g.large', 'm6gd.xlarge', 'c6gn.large', 'im4gn.large', 'x2gd.medium', 'g5g.xlarge', 'a1.medium', 'r8g.large'])(
    '%s is arm64 (Graviton)',
    (type) => expect(architectureOfInstanceType(type)).toBe('arm64'),
  );
  it.each(['t3.small', 't3a.micro', 'm7i.large', 'm7i-flex.large', 'c7a.large', 'g4dn.xlarge', 'g5.xlarge', 'p4d.24xlarge', 'mac1.metal'])(
    '%s is x86_64',
    (type) => expect(architectureOfInstanceType(type)).toBe('x86_64'),
  );
});
