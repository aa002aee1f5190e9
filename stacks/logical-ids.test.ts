/**
 * Stateful resources keep their logical ids across refactors: a changed id makes
 * Terraform destroy and re-create them — an empty bucket, a new public IP (breaking
 * consumers' allow-lists and DNS), a deleted record. These ids are a contract.
 */
import { exampleConfig, removeTempDirs, resources, synthStack } from '../testing/synth';

afterAll(removeTempDirs);

describe('pinned logical ids', () => {
  it('keeps the bucket, Elastic IP and DNS records at fixed ids', () => {
    const { doc } = synthStack(exampleConfig({ instance: { ipv6: true } }));
    expect(Object.keys(resources(doc, 'aws_s3_bucket'))).toEqual(['data_bucket']);
    expect(Object.keys(resources(doc, 'aws_eip'))).toEqual(['public_ip']);
    expect(Object.keys(resources(doc, 'aws_route53_record')).sort()).toEqual(['dns_a', 'dns_aaaa']);
  });

  it('does not depend on the environment name', () => {
    const other = synthStack(exampleConfig({ name: 'staging', domain: 'staging.energydata.org.uk' })).doc;
    expect(Object.keys(resources(other, 'aws_s3_bucket'))).toEqual(['data_bucket']);
    expect(Object.keys(resources(other, 'aws_eip'))).toEqual(['public_ip']);
    expect(Object.keys(resources(other, 'aws_route53_record'))).toEqual(['dns_a']);
  });
});
