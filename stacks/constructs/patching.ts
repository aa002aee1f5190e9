/**
 * Scheduled patching: a State Manager association running `AWS-RunPatchBaseline`
 * (Operation=Install) on the instance. The AMI is pinned (`ignore_changes = [ami]`) and
 * AL2023 locks its repositories to the AMI's release, so Patch Manager applies the
 * updates published for that release (security and bug fixes); moving to a newer
 * release is a separate step (docs/stack.md, "Patching and AMI rolls").
 *
 * A cron schedule waits for its first interval (`apply_only_at_cron_interval`): creating
 * the association never patches, or reboots, a host in the middle of its first setup.
 * The instance role needs nothing more: AmazonSSMManagedInstanceCore covers Patch
 * Manager (the document, the patch baseline, the inventory it reports).
 */
import { Construct } from 'constructs';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import { InputError } from '../../lib/input-error';
import { associationNameProblem, isCronSchedule, ssmScheduleProblem } from '../lib/aws-name-rules';

export const PATCH_DOCUMENT = 'AWS-RunPatchBaseline';
export type RebootOption = 'RebootIfNeeded' | 'NoReboot';

export interface PatchingProps {
  readonly namePrefix: string;
  /** The single host; or `targetTag`. */
  readonly instanceId?: string;
  /** Fleet mode: every instance carrying this tag, patched (and rebooted) one at a time. */
  readonly targetTag?: { readonly key: string; readonly value: string };
  /** SSM cron or rate expression (UTC). */
  readonly schedule: string;
  /** @default 'RebootIfNeeded' */
  readonly rebootOption?: RebootOption;
}

export class Patching extends Construct {
  readonly association: SsmAssociation;

  constructor(scope: Construct, id: string, props: PatchingProps) {
    super(scope, id);
    const { rebootOption = 'RebootIfNeeded' } = props;
    const associationName = `${props.namePrefix}-patch`;
    const problems = [ssmScheduleProblem(props.schedule), associationNameProblem(associationName)].filter((p): p is string => p !== undefined);
    if ((props.instanceId === undefined) === (props.targetTag === undefined)) problems.push('give either instanceId or targetTag');
    if (problems.length > 0) throw new InputError(`Patching ${this.node.path}: ${problems.join('; ')}`);

    this.association = new SsmAssociation(this, 'association', {
      name: PATCH_DOCUMENT,
      associationName,
      scheduleExpression: props.schedule,
      // Rate expressions always run once at creation (SSM refuses the flag with them).
      applyOnlyAtCronInterval: isCronSchedule(props.schedule),
      targets: [props.targetTag !== undefined ? { key: `tag:${props.targetTag.key}`, values: [props.targetTag.value] } : { key: 'InstanceIds', values: [props.instanceId as string] }],
      parameters: { Operation: 'Install', RebootOption: rebootOption },
      // A failed run shows as a HIGH compliance finding in State Manager.
      complianceSeverity: 'HIGH',
      maxConcurrency: '1',
      maxErrors: '0',
    });
    this.association.overrideLogicalId('patch_association');
  }
}
