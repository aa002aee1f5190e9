/**
 * Stateful resources keep their logical ids across refactors: a changed id makes
 * Terraform destroy and re-create them — an empty bucket, a new public IP (breaking
 * consumers' allow-lists and DNS), a deleted record. These ids are a contract.
 */
import { exampleConfig, removeTempDirs, resources, synthStack } from '../testing/synth';

afterAll(removeTempDirs);

describe('pinned logical ids', () => {
  it('keeps the bucket, Elastic IP and DNS records (A, AAAA, CAA) at fixed ids', () => {
    const { doc } = synthStack(exampleConfig({ instance: { ipv6: true } }));
    expect(Object.keys(resources(doc, 'aws_s3_bucket'))).toEqual(['data_bucket']);
    expect(Object.keys(resources(doc, 'aws_eip'))).toEqual(['public_ip']);
    expect(Object.keys(resources(doc, 'aws_route53_record')).sort()).toEqual(['dns_a', 'dns_aaaa', 'dns_caa']);
  });

  it('keeps the data KMS key, its alias and the patch association at fixed ids', () => {
    const { doc } = synthStack();
    expect(Object.keys(resources(doc, 'aws_kms_key'))).toEqual(['data_key']);
    expect(Object.keys(resources(doc, 'aws_kms_alias'))).toEqual(['data_key_alias']);
    expect(Object.keys(resources(doc, 'aws_ssm_association')).sort()).toEqual(['host_deploy_998EBAD5', 'patch_association']);
  });

  it("keeps the bucket's policy and encryption at the ids they had before the data key (a removed policy resource would delete the live policy)", () => {
    const { doc } = synthStack();
    expect(Object.keys(resources(doc, 'aws_s3_bucket_policy'))).toEqual(['storage_policy_79A6A166']);
    expect(Object.keys(resources(doc, 'aws_s3_bucket_server_side_encryption_configuration'))).toEqual(['storage_encryption_D90D7E74']);
  });

  it('does not depend on the environment name', () => {
    const other = synthStack(exampleConfig({ name: 'staging', domain: 'staging.energydata.org.uk' })).doc;
    expect(Object.keys(resources(other, 'aws_s3_bucket'))).toEqual(['data_bucket']);
    expect(Object.keys(resources(other, 'aws_eip'))).toEqual(['public_ip']);
    expect(Object.keys(resources(other, 'aws_route53_record')).sort()).toEqual(['dns_a', 'dns_caa']);
    expect(Object.keys(resources(other, 'aws_kms_key'))).toEqual(['data_key']);
    expect(Object.keys(resources(other, 'aws_instance'))).toEqual(['host_instance_168AED24']);
  });
});
