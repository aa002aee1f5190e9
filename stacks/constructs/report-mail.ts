/**
 * How the daily access report reaches people (docs/operations.md "Access report"): an
 * Amazon SES domain identity for the environment's `domain`, signed with Easy DKIM (its
 * three CNAME records in the same hosted zone, so SES verifies the domain by itself),
 * and what the instance role needs to deliver the report:
 *
 * - ses:SendEmail (and ses:SendRawEmail, which SESv2's SendEmail also authorizes when a
 *   message is sent as raw) on exactly this identity's ARN, only with the configured
 *   From address (condition ses:FromAddress);
 * - s3:PutObject on exactly the two report keys (host-status/access-report.{html,json}).
 *
 * The host's side (host/scripts/daily-report.sh, provider-host-report.timer) reads the
 * sender, recipients and hour from the host config the stack writes (reportHostSettings).
 */
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { Sesv2EmailIdentity } from '@cdktf/provider-aws/lib/sesv2-email-identity';
import type { ResolvedReport } from '../../config/operations-schema';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import type { HostSettingsInput } from '../../contract/host-settings';
import * as rule from '../../contract/rules';
import { InputError } from '../../lib/input-error';

/** Easy DKIM publishes three selectors per identity (SES: "three CNAME records"). */
export const DKIM_RECORD_COUNT = 3;
/** The keys the host writes the report to. */
export const REPORT_KEYS = [BUCKET_LAYOUT.accessReportHtmlKey, BUCKET_LAYOUT.accessReportJsonKey] as const;

export interface ReportMailProps {
  /** The environment's domain: the SES identity, and the domain of the From address. */
  readonly domain: string;
  /** The hosted zone holding `domain` (the DKIM records go there). */
  readonly zoneId: string;
  readonly report: ResolvedReport;
  /** The instance role's id (name): gets the send and write policy. */
  readonly roleId: string;
  /** The data bucket's ARN. */
  readonly bucketArn: string;
  /** @default 1800 (SES's own suggestion for the DKIM records) */
  readonly ttl?: number;
}

/** What crosses to the host: the report's settings (contract/host-settings.ts). Empty when the report is off. */
export function reportHostSettings(report: ResolvedReport | undefined): Partial<HostSettingsInput> {
  if (report === undefined) return {};
  return { reportSender: report.sender, reportRecipients: report.recipients.join(','), reportHour: report.hourUtc };
}

/** Every problem of a resolved report, checked again here with the contract's own rules (a construct may be used without the schema). */
export function reportMailProblems(domain: string, report: ResolvedReport): string[] {
  const problems: string[] = [];
  if (!rule.email.safeParse(report.sender).success) problems.push(`sender ${rule.show(report.sender)} is not an e-mail address`);
  else if (report.sender.slice(report.sender.lastIndexOf('@') + 1).toLowerCase() !== domain) problems.push(`sender ${rule.show(report.sender)} is not an address at "${domain}" (the SES identity)`);
  if (report.recipients.length === 0) problems.push('no recipients');
  else if (!rule.emailList.safeParse(report.recipients.join(',')).success) problems.push(`recipients ${rule.show(report.recipients)}: ${rule.emailList.safeParse(report.recipients.join(',')).error?.issues[0]?.message}`);
  if (!rule.hourOfDay.safeParse(report.hourUtc).success) problems.push(`hour ${rule.show(report.hourUtc)} is not a UTC hour 0-23`);
  return problems;
}

export class ReportMail extends Construct {
  readonly identity: Sesv2EmailIdentity;
  readonly dkimRecords: readonly Route53Record[];
  readonly policyDocument: DataAwsIamPolicyDocument;
  readonly policy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: ReportMailProps) {
    super(scope, id);
    const problems = reportMailProblems(props.domain, props.report);
    if (problems.length > 0) throw new InputError(`operations.report: ${problems.join('; ')}`);
    const { ttl = 1800 } = props;

    this.identity = new Sesv2EmailIdentity(this, 'identity', {
      emailIdentity: props.domain,
      dkimSigningAttributes: { nextSigningKeyLength: 'RSA_2048_BIT' },
    });
    // Stateful (its DKIM keys and verification): a new logical id would re-create it.
    this.identity.overrideLogicalId('report_identity');

    const tokens = this.identity.dkimSigningAttributes.tokens;
    this.dkimRecords = Array.from({ length: DKIM_RECORD_COUNT }, (_unused, index) => {
      const token = Token.asString(Fn.element(tokens, index));
      const record = new Route53Record(this, `dkim-${index}`, {
        zoneId: props.zoneId,
        name: `${token}._domainkey.${props.domain}`,
        type: 'CNAME',
        ttl,
        records: [`${token}.dkim.amazonses.com`],
      });
      record.overrideLogicalId(`report_dkim_${index}`);
      return record;
    });

    this.policyDocument = new DataAwsIamPolicyDocument(this, 'document', {
      statement: [
        {
          sid: 'SendDailyReport',
          effect: 'Allow',
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          resources: [this.identity.arn],
          condition: [{ test: 'StringEquals', variable: 'ses:FromAddress', values: [props.report.sender] }],
        },
        {
          sid: 'WriteDailyReport',
          effect: 'Allow',
          actions: ['s3:PutObject'],
          resources: REPORT_KEYS.map((key) => `${props.bucketArn}/${key}`),
        },
      ],
    });
    this.policy = new IamRolePolicy(this, 'policy', {
      name: 'provider-host-report',
      role: props.roleId,
      policy: this.policyDocument.json,
    });
  }
}
