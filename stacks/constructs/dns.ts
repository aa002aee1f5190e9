/**
 * The public name: an A record for the Elastic IP (and AAAA for the instance's IPv6
 * address when enabled), or in fleet mode A (and AAAA) alias records to the load
 * balancer, in the hosted zone given by id, or by name (looked up at plan time, not at
 * synthesis); a CAA record naming the one CA that may issue for it.
 */
import { Construct } from 'constructs';
import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { InputError } from '../../lib/input-error';

/** A Route53 alias target (fleet mode: the load balancer). */
export interface AliasTarget {
  readonly dnsName: string;
  readonly zoneId: string;
}

export interface DnsProps {
  readonly domain: string;
  readonly zone: { readonly id: string } | { readonly name: string };
  /** The single host's address; or, in fleet mode, `alias`. */
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
  /** Fleet mode: A (and AAAA with `aliasIpv6`) alias records to the load balancer instead of addresses. */
  readonly alias?: AliasTarget;
  /** Publish the AAAA alias too (the load balancer is dual-stack). @default false */
  readonly aliasIpv6?: boolean;
  /** Take over records that already exist (Terraform `allow_overwrite`). @default false */
  readonly allowOverwrite?: boolean;
  /** @default 300 */
  readonly ttl?: number;
  /** The CAA record's values (`0 issue "letsencrypt.org"`, …); omitted: no CAA record. */
  readonly caaRecords?: readonly string[];
}

/** RFC 8659 CAA property values: issuance by `issuer` only (RFC 8657 account and http-01 when given), no wildcards. */
export function caaRecordValues(props: {
  readonly issuer: string;
  readonly accountUri?: string | undefined;
  /** The ACME challenge the hosts use (fleet mode: dns-01). @default 'http-01' */
  readonly validationMethod?: 'http-01' | 'dns-01';
}): string[] {
  // Values travel inside a quoted CAA string: refuse what would break out of it.
  for (const value of [props.issuer, props.accountUri ?? '']) {
    if (/["\\;\s]/.test(value)) throw new InputError(`CAA value ${JSON.stringify(value)} holds a quote, backslash, ";" or space`);
  }
  const parameters = props.accountUri !== undefined ? `; accounturi=${props.accountUri}; validationmethods=${props.validationMethod ?? 'http-01'}` : '';
  return [`0 issue "${props.issuer}${parameters}"`, '0 issuewild ";"'];
}

export class Dns extends Construct {
  readonly zoneId: string;
  readonly aRecord: Route53Record;
  readonly aaaaRecord?: Route53Record;
  readonly caaRecord?: Route53Record;

  constructor(scope: Construct, id: string, props: DnsProps) {
    super(scope, id);
    const { ttl = 300, allowOverwrite = false } = props;
    this.zoneId = 'id' in props.zone
      ? props.zone.id
      : new DataAwsRoute53Zone(this, 'zone', { name: props.zone.name, privateZone: false }).zoneId;

    if ((props.alias === undefined) === (props.ipv4Address === undefined)) {
      throw new InputError(`Dns ${this.node.path}: give either ipv4Address (one host) or alias (a load balancer)`);
    }
    // Alias records have no TTL: Route53 answers with the load balancer's own addresses,
    // and stops answering with a zone's address when it has no healthy host (evaluate_target_health).
    const target = (address: string | undefined) => props.alias !== undefined
      ? { alias: { name: props.alias.dnsName, zoneId: props.alias.zoneId, evaluateTargetHealth: true } }
      : { ttl, records: [address as string] };
    this.aRecord = new Route53Record(this, 'a', { zoneId: this.zoneId, name: props.domain, type: 'A', ...target(props.ipv4Address), allowOverwrite });
    // Stateful: a new logical id would delete and re-create the live record.
    this.aRecord.overrideLogicalId('dns_a');
    if (props.ipv6Address !== undefined || (props.alias !== undefined && props.aliasIpv6 === true)) {
      this.aaaaRecord = new Route53Record(this, 'aaaa', { zoneId: this.zoneId, name: props.domain, type: 'AAAA', ...target(props.ipv6Address), allowOverwrite });
      this.aaaaRecord.overrideLogicalId('dns_aaaa');
    }
    if (props.caaRecords !== undefined && props.caaRecords.length > 0) {
      // Which CAs may issue for `domain` (RFC 8659): checked by every CA before issuing.
      this.caaRecord = new Route53Record(this, 'caa', { zoneId: this.zoneId, name: props.domain, type: 'CAA', ttl, records: [...props.caaRecords], allowOverwrite });
      this.caaRecord.overrideLogicalId('dns_caa');
    }
  }
}
