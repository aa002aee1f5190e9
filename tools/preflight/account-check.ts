import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { credentialProblem, describeAwsFailure } from './aws-errors';
import { fail, pass, type CheckResult } from './check-result';

const NAME = 'account';

export interface AccountCheck {
  readonly result: CheckResult;
  /** Set when the credentials work: the other AWS checks run only then. */
  readonly accountId?: string;
}

/** Who the credentials are (STS GetCallerIdentity, which needs no permission) and the region used. */
export async function checkAccount(sts: STSClient, region: string): Promise<AccountCheck> {
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    const accountId = identity.Account ?? '(unknown account)';
    return { result: pass(NAME, `${accountId} as ${identity.Arn ?? '(unknown caller)'}, region ${region}`), accountId };
  } catch (error) {
    const problem = credentialProblem(error) ?? `cannot identify the caller in ${region}: ${describeAwsFailure(error, 'sts:GetCallerIdentity')}`;
    return { result: fail(NAME, problem) };
  }
}
