import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { createEnvironmentFolder, createPki, errors, goodAccount, ROUTE53_NS, runPreflight, ZONE_ID, type EnvironmentFolder, type FakeAccount, type Pki } from '../../testing/preflight-account';

const NS_LIST = ROUTE53_NS.join(', ');

describe('preflight: hosted zone and DNS record', () => {
  let pki: Pki;
  let folder: EnvironmentFolder;
  let account: FakeAccount;
  beforeAll(() => {
    pki = createPki();
    folder = createEnvironmentFolder(pki);
  });
  afterAll(() => folder.remove());
  beforeEach(() => {
    account = goodAccount(pki);
  });
  const run = (overrides: Record<string, unknown> = {}) => runPreflight(account, ['--config', folder.write(overrides)], pki);

  describe('hosted zone', () => {
    it('GIVEN hostedZone.id THEN the zone is read by id; name matching ignores case and the trailing dot', async () => {
      const result = await run({ hostedZone: { id: ZONE_ID, name: undefined } });
      expect(result.line('hosted zone')).toBe(`✔ hosted zone                energydata.org.uk (${ZONE_ID}) public, delegated: public DNS answers its 4 Route53 name servers`);
      expect(result.code).toBe(0);
    });

    it('GIVEN no zone of that name THEN ✘ with the create command, and the record check is skipped', async () => {
      account.zones = account.zones.filter((z) => z.Name !== 'energydata.org.uk.');
      const result = await run();
      expect(result.line('hosted zone')).toBe(
        '✘ hosted zone                no hosted zone named energydata.org.uk in this account; create it ("aws route53 create-hosted-zone --name energydata.org.uk --caller-reference preflight-$(date +%s)") and delegate it, or fix hostedZone.name',
      );
      expect(result.line('DNS record')).toBe('- DNS record                 skipped: no usable hosted zone (see hosted zone)');
      expect(result.code).toBe(1);
    });

    it('GIVEN a hostedZone.id that does not exist THEN ✘', async () => {
      const result = await run({ hostedZone: { id: 'ZNOTTHERE', name: undefined } });
      expect(result.line('hosted zone')).toBe('✘ hosted zone                no hosted zone ZNOTTHERE in this account; check hostedZone.id ("aws route53 list-hosted-zones") or give hostedZone.name instead');
    });

    it('GIVEN only a private zone of that name THEN ✘: the record must be public', async () => {
      account.zones = account.zones.map((z) => (z.Name === 'energydata.org.uk.' ? { ...z, PrivateZone: true } : z));
      const byName = await run();
      expect(byName.line('hosted zone')).toBe(
        `✘ hosted zone                energydata.org.uk (${ZONE_ID}) is a private hosted zone; the provider's record must be public: create a public zone for energydata.org.uk and delegate it`,
      );
      const byId = await run({ hostedZone: { id: ZONE_ID, name: undefined } });
      expect(byId.line('hosted zone')).toBe(
        `✘ hosted zone                energydata.org.uk (${ZONE_ID}) is a private hosted zone; the provider's record must be public: create a public zone for energydata.org.uk or point hostedZone at one`,
      );
      expect(byId.code).toBe(1);
    });

    it('GIVEN a private and a public zone of the same name THEN the public one is used', async () => {
      account.zones.push({ Id: '/hostedzone/ZPRIVATE1', Name: 'energydata.org.uk.', PrivateZone: true, NameServers: [] });
      expect((await run()).line('hosted zone')).toMatch(/^✔ hosted zone +energydata\.org\.uk \(Z0123456789ABCDEFGHIJ\) public/);
    });

    it('GIVEN public DNS answers other name servers THEN ✘ not delegated, listing the NS records to set', async () => {
      account.publicNs = ['ns-1.other.net', 'ns-2.other.net'];
      const result = await run();
      expect(result.line('hosted zone')).toBe(
        `✘ hosted zone                energydata.org.uk is not delegated: public DNS answers ns-1.other.net, ns-2.other.net; set the NS records at the registrar / parent zone to: ${NS_LIST}`,
      );
      expect(result.code).toBe(1);
    });

    it('GIVEN public DNS answers only some of the zone\'s name servers THEN ✘ (the sets must be equal)', async () => {
      account.publicNs = ROUTE53_NS.slice(0, 2).map((ns) => `${ns}.`);
      expect((await run()).line('hosted zone')).toBe(
        `✘ hosted zone                energydata.org.uk is not delegated: public DNS answers ns-1.awsdns-01.org, ns-2.awsdns-02.co.uk; set the NS records at the registrar / parent zone to: ${NS_LIST}`,
      );
    });

    it('GIVEN the name does not exist in public DNS THEN ✘ not delegated', async () => {
      account.publicNs = errors.dns('ENOTFOUND');
      expect((await run()).line('hosted zone')).toBe(
        `✘ hosted zone                energydata.org.uk is not delegated: public DNS has no NS records for it (ENOTFOUND); set the NS records at the registrar / parent zone to: ${NS_LIST}`,
      );
    });

    it('GIVEN public DNS does not answer THEN ! delegation not checked (not a failure)', async () => {
      account.publicNs = errors.dns('ETIMEOUT');
      const result = await run();
      expect(result.line('hosted zone')).toBe(
        `! hosted zone                energydata.org.uk (${ZONE_ID}) is public; delegation not checked: public DNS did not answer (ETIMEOUT); check "dig NS energydata.org.uk @1.1.1.1" by hand`,
      );
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/\nall 9 checks passed \(1 warning\)\n$/);
    });

    it('GIVEN the caller may not list zones THEN ✘ naming the permission', async () => {
      account.failing = { ListHostedZonesByName: Object.assign(new Error('not authorized'), { name: 'AccessDenied' }) };
      expect((await run()).line('hosted zone')).toBe(
        "✘ hosted zone                cannot list hosted zones: access denied (AccessDenied): the credentials lack route53:ListHostedZonesByName; add it to the operator's IAM policy",
      );
    });
  });

  describe('DNS record', () => {
    const aRecord: ResourceRecordSet = { Name: 'provider.energydata.org.uk.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] };

    it('GIVEN an A record at the domain and allowOverwrite false (default) THEN ✘ with both fixes', async () => {
      account.records.push(aRecord);
      const result = await run();
      expect(result.line('DNS record')).toBe(
        '✘ DNS record                 provider.energydata.org.uk already has an A record (203.0.113.10), so the deploy would fail; delete the record, or set hostedZone.allowOverwrite: true to take it over',
      );
      expect(result.code).toBe(1);
    });

    it('GIVEN an A record at the domain and allowOverwrite true THEN ! it will be taken over, exit 0', async () => {
      account.records.push(aRecord);
      const result = await run({ hostedZone: { allowOverwrite: true } });
      expect(result.line('DNS record')).toBe(
        '! DNS record                 provider.energydata.org.uk already has an A record (203.0.113.10); hostedZone.allowOverwrite is true, so the deploy will take it over',
      );
      expect(result.code).toBe(0);
    });

    it('GIVEN ipv6 THEN an AAAA record (alias shown by target) conflicts too; without ipv6 it does not', async () => {
      account.records.push({ Name: 'provider.energydata.org.uk.', Type: 'AAAA', AliasTarget: { DNSName: 'dualstack.lb.example.com.', HostedZoneId: 'ZLB', EvaluateTargetHealth: false } });
      expect((await run({ instance: { type: 't4g.small', ipv6: true } })).line('DNS record')).toBe(
        '✘ DNS record                 provider.energydata.org.uk already has an AAAA record (alias to dualstack.lb.example.com), so the deploy would fail; delete the record, or set hostedZone.allowOverwrite: true to take it over',
      );
      expect((await run()).line('DNS record')).toBe('✔ DNS record                 no A/CAA record for provider.energydata.org.uk yet: the deploy creates it');
    });

    it('GIVEN a CAA record at the domain THEN it conflicts with the one the stack creates, unless allowOverwrite', async () => {
      account.records.push({ Name: 'provider.energydata.org.uk.', Type: 'CAA', TTL: 300, ResourceRecords: [{ Value: '0 issue "other-ca.example"' }] });
      expect((await run()).line('DNS record')).toBe(
        '✘ DNS record                 provider.energydata.org.uk already has a CAA record (0 issue "other-ca.example"), so the deploy would fail; delete the record, or set hostedZone.allowOverwrite: true to take it over',
      );
      expect((await run({ hostedZone: { allowOverwrite: true } })).line('DNS record')).toMatch(/^! DNS record .*a CAA record .*will take it over$/);
    });

    it('GIVEN a CNAME at the domain THEN ✘ even with allowOverwrite', async () => {
      account.records.push({ Name: 'provider.energydata.org.uk.', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'old-host.example.net' }] });
      const result = await run({ hostedZone: { allowOverwrite: true } });
      expect(result.line('DNS record')).toBe(
        '✘ DNS record                 provider.energydata.org.uk has a CNAME record (old-host.example.net), which an A record cannot sit beside (allowOverwrite does not help); delete the CNAME',
      );
      expect(result.code).toBe(1);
    });

    it('GIVEN hostedZone.id of a zone that does not contain the domain THEN ✘', async () => {
      const result = await run({ domain: 'provider.example.net', hostedZone: { id: ZONE_ID, name: undefined } });
      expect(result.line('DNS record')).toBe(
        `✘ DNS record                 provider.example.net is not inside hosted zone energydata.org.uk (${ZONE_ID}); set domain to a name ending in .energydata.org.uk or hostedZone to the zone of provider.example.net`,
      );
    });
  });
});
