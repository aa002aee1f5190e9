/**
 * The hosted zone the record goes into: it exists, is public and is delegated (public
 * DNS answers its Route53 name servers); and the record itself does not already exist
 * unless the environment allows taking it over.
 */
import {
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type GetHostedZoneCommandOutput,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { ResolveNs } from './aws-clients';
import { awsErrorName, describeAwsFailure } from './aws-errors';
import { fail, pass, warn, type CheckResult } from './check-result';

const ZONE = 'hosted zone';
const RECORD = 'DNS record';

export interface ZoneSettings {
  readonly domain: string;
  readonly hostedZone: { readonly name?: string; readonly id?: string; readonly allowOverwrite: boolean };
  /** `instance.ipv6`: the deploy also writes an AAAA record. */
  readonly ipv6: boolean;
}

/** A zone found in the account: bare id (`Z…`) and name without the trailing dot. */
export interface FoundZone {
  readonly id: string;
  readonly name: string;
}

export interface HostedZoneCheck {
  readonly result: CheckResult;
  /** Set when the zone exists and is public, delegated or not: the record check runs then. */
  readonly zone?: FoundZone;
}

/** Lower case, no trailing dot: how DNS names are compared. */
export const dnsName = (name: string): string => name.toLowerCase().replace(/\.$/, '');
const bareZoneId = (id: string): string => id.replace(/^\/hostedzone\//, '');

/** The zone exists (by id or exact name), is public, and public DNS answers its name servers. */
export async function checkHostedZone(route53: Route53Client, resolveNs: ResolveNs, settings: ZoneSettings): Promise<HostedZoneCheck> {
  let zoneId = settings.hostedZone.id;
  if (zoneId === undefined) {
    const found = await findZoneByName(route53, settings.hostedZone.name ?? '');
    if ('result' in found) return found;
    zoneId = found.id;
  }
  let answer: GetHostedZoneCommandOutput;
  try {
    answer = await route53.send(new GetHostedZoneCommand({ Id: zoneId }));
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchHostedZone') {
      return { result: fail(ZONE, `no hosted zone ${zoneId} in this account; check hostedZone.id ("aws route53 list-hosted-zones") or give hostedZone.name instead`) };
    }
    return { result: fail(ZONE, `cannot read hosted zone ${zoneId}: ${describeAwsFailure(error, 'route53:GetHostedZone')}`) };
  }
  const zone: FoundZone = { id: bareZoneId(answer.HostedZone?.Id ?? zoneId), name: dnsName(answer.HostedZone?.Name ?? '') };
  if (answer.HostedZone?.Config?.PrivateZone) {
    return { result: fail(ZONE, `${zone.name} (${zone.id}) is a private hosted zone; the provider's record must be public: create a public zone for ${zone.name} or point hostedZone at one`) };
  }
  const nameServers = (answer.DelegationSet?.NameServers ?? []).map(dnsName);
  return { result: await checkDelegation(resolveNs, zone, nameServers), zone };
}

async function findZoneByName(route53: Route53Client, name: string): Promise<FoundZone | HostedZoneCheck> {
  const wanted = dnsName(name);
  let zones;
  try {
    zones = (await route53.send(new ListHostedZonesByNameCommand({ DNSName: wanted, MaxItems: 100 }))).HostedZones ?? [];
  } catch (error) {
    return { result: fail(ZONE, `cannot list hosted zones: ${describeAwsFailure(error, 'route53:ListHostedZonesByName')}`) };
  }
  const named = zones.filter((z) => dnsName(z.Name ?? '') === wanted);
  const publicZones = named.filter((z) => !z.Config?.PrivateZone);
  if (publicZones.length === 1) return { id: bareZoneId(publicZones[0]!.Id ?? ''), name: wanted };
  if (publicZones.length > 1) {
    const ids = publicZones.map((z) => bareZoneId(z.Id ?? '')).join(', ');
    return { result: fail(ZONE, `${publicZones.length} public hosted zones are named ${wanted} (${ids}); Terraform cannot choose: set hostedZone.id to the delegated one`) };
  }
  if (named.length > 0) {
    const ids = named.map((z) => bareZoneId(z.Id ?? '')).join(', ');
    return { result: fail(ZONE, `${wanted} (${ids}) is a private hosted zone; the provider's record must be public: create a public zone for ${wanted} and delegate it`) };
  }
  return {
    result: fail(
      ZONE,
      `no hosted zone named ${wanted} in this account; create it ("aws route53 create-hosted-zone --name ${wanted} --caller-reference preflight-$(date +%s)") and delegate it, or fix hostedZone.name`,
    ),
  };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const left = new Set(a.map(dnsName));
  const right = new Set(b.map(dnsName));
  return left.size === right.size && [...left].every((n) => right.has(n));
};

const NOT_ANSWERED = new Set(['ETIMEOUT', 'ECONNREFUSED', 'ECANCELLED', 'EREFUSED', 'ECONNRESET']);

async function checkDelegation(resolveNs: ResolveNs, zone: FoundZone, nameServers: readonly string[]): Promise<CheckResult> {
  const fix = `set the NS records at the registrar / parent zone to: ${nameServers.join(', ')}`;
  let published: string[];
  try {
    published = (await resolveNs(zone.name)).map(dnsName).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    if (NOT_ANSWERED.has(code)) {
      return warn(ZONE, `${zone.name} (${zone.id}) is public; delegation not checked: public DNS did not answer (${code}); check "dig NS ${zone.name} @1.1.1.1" by hand`);
    }
    if (code === 'ESERVFAIL') {
      return fail(ZONE, `${zone.name} is not resolvable: public DNS fails on its NS records (SERVFAIL: a broken delegation or DNSSEC DS record); ${fix}, and remove a stale DS record`);
    }
    return fail(ZONE, `${zone.name} is not delegated: public DNS has no NS records for it (${code}); ${fix}`);
  }
  if (!sameSet(published, nameServers)) {
    return fail(ZONE, `${zone.name} is not delegated: public DNS answers ${published.join(', ') || 'no name servers'}; ${fix}`);
  }
  return pass(ZONE, `${zone.name} (${zone.id}) public, delegated: public DNS answers its ${nameServers.length} Route53 name servers`);
}

const recordValues = (record: ResourceRecordSet): string =>
  record.AliasTarget?.DNSName ? `alias to ${dnsName(record.AliasTarget.DNSName)}` : (record.ResourceRecords ?? []).map((r) => r.Value ?? '').join(', ');

/** No A (AAAA with ipv6) record at `domain` unless allowOverwrite; never a CNAME; `domain` lies inside the zone. */
export async function checkDnsRecord(route53: Route53Client, zone: FoundZone, settings: ZoneSettings): Promise<CheckResult> {
  const domain = dnsName(settings.domain);
  if (domain !== zone.name && !domain.endsWith(`.${zone.name}`)) {
    return fail(RECORD, `${domain} is not inside hosted zone ${zone.name} (${zone.id}); set domain to a name ending in .${zone.name} or hostedZone to the zone of ${domain}`);
  }
  let records: ResourceRecordSet[];
  try {
    const answer = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.id, StartRecordName: domain, MaxItems: 20 }));
    records = (answer.ResourceRecordSets ?? []).filter((r) => dnsName(r.Name ?? '') === domain);
  } catch (error) {
    return fail(RECORD, `cannot list the records of ${zone.name}: ${describeAwsFailure(error, 'route53:ListResourceRecordSets')}`);
  }
  const cname = records.find((r) => r.Type === 'CNAME');
  if (cname) {
    return fail(RECORD, `${domain} has a CNAME record (${recordValues(cname)}), which an A record cannot sit beside (allowOverwrite does not help); delete the CNAME`);
  }
  // The stack creates A (AAAA with IPv6) and the CAA record limiting issuance to the configured CA.
  const types = settings.ipv6 ? ['A', 'AAAA', 'CAA'] : ['A', 'CAA'];
  const existing = records.filter((r) => types.includes(r.Type ?? ''));
  const wanted = types.join('/');
  if (existing.length === 0) return pass(RECORD, `no ${wanted} record for ${domain} yet: the deploy creates it`);
  const found = existing.map((r) => `${/^[AEIOU]/.test(r.Type ?? '') ? 'an' : 'a'} ${r.Type} record (${recordValues(r)})`).join(' and ');
  if (settings.hostedZone.allowOverwrite) {
    return warn(RECORD, `${domain} already has ${found}; hostedZone.allowOverwrite is true, so the deploy will take it over`);
  }
  return fail(RECORD, `${domain} already has ${found}, so the deploy would fail; delete the record, or set hostedZone.allowOverwrite: true to take it over`);
}
