import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Architecture } from '../../config/instance-architecture';
import { AMI_PARAMETER_PREFIX } from '../../stacks/constructs/host';
import { awsErrorName, describeAwsFailure } from './aws-errors';
import { fail, pass, type CheckResult } from './check-result';

const NAME = 'AMI';

/** The public AL2023 parameter the stack reads at plan time resolves to an AMI id for this architecture. */
export async function checkAmi(ssm: SSMClient, architecture: Architecture, region: string): Promise<CheckResult> {
  const parameter = `${AMI_PARAMETER_PREFIX}${architecture}`;
  let value: string | undefined;
  try {
    value = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  } catch (error) {
    if (awsErrorName(error) === 'ParameterNotFound') {
      return fail(NAME, `${parameter} does not exist in ${region}: AL2023 for ${architecture} is not published there; choose another region or instance type`);
    }
    return fail(NAME, `cannot read ${parameter}: ${describeAwsFailure(error, `ssm:GetParameter on arn:aws:ssm:${region}::parameter/aws/service/*`)}`);
  }
  if (!value || !/^ami-[0-9a-f]{8,17}$/.test(value)) {
    return fail(NAME, `${parameter} holds ${JSON.stringify(value ?? '')}, not an AMI id; check the region, or report it: the stack relies on this public parameter`);
  }
  return pass(NAME, `${value} (AL2023 ${architecture}, ${parameter})`);
}
