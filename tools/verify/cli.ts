import { parseArgs } from 'node:util';
import { describeError } from '../client/cli';
import { CONSUMER_OPTIONS, CONSUMER_OPTIONS_HELP, toConsumerFlags } from '../client/consumer-flags';
import { ClientError } from '../client/errors';
import { formatReport, runVerify } from './run-verify';

export const VERIFY_HELP = `Usage: npm run verify -- [<https url>] [options]

Checks a data provider from outside: DNS, server certificate (trust, name, days
left), TLS versions (1.2/1.3 offered, 1.0/1.1 refused), a request without a client
certificate refused, a token and a dataset download with one, FAPI headers.
One line per check; exit code 1 when any check fails. Without a URL: the sandbox.

  --dataset <name>        dataset to download (default: the first listed)
  --profile <open-energy|ib1>  the trust framework to check against (default: the
                          sandbox's, else open-energy). ib1: TLS 1.3 only, ECDSA server
                          key, an open dataset without a certificate, a shared one refused
                          without, the heartbeat
  --heartbeat-path <path> ib1: the heartbeat (default /heartbeat)
  --warn-days <n>         warn when the server certificate expires sooner (default 30)
  --fail-days <n>         fail when it expires sooner (default 7)

${CONSUMER_OPTIONS_HELP}`;

function days(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ClientError(`${flag} must be a whole number of days, got "${value}".`);
  return n;
}

/** Runs verify; returns the exit code (0 all passed, 1 a check failed, 2 bad usage). */
export async function runVerifyCli(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let options;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ...CONSUMER_OPTIONS,
        dataset: { type: 'string' },
        profile: { type: 'string' },
        'heartbeat-path': { type: 'string' },
        'warn-days': { type: 'string' },
        'fail-days': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      out.write(`${VERIFY_HELP}\n`);
      return 0;
    }
    if (positionals.length > 1) throw new ClientError(`Expected one URL, got ${positionals.length}.`, 'npm run verify -- https://provider.example.com/');
    const consumer = toConsumerFlags(values);
    if (values.profile !== undefined && values.profile !== 'open-energy' && values.profile !== 'ib1') {
      throw new ClientError(`--profile must be open-energy or ib1, got "${values.profile}".`);
    }
    options = {
      url: positionals[0] ?? consumer.url,
      consumer,
      dataset: values.dataset,
      profile: values.profile as 'open-energy' | 'ib1' | undefined,
      heartbeatPath: values['heartbeat-path'],
      warnDays: days(values['warn-days'], '--warn-days'),
      failDays: days(values['fail-days'], '--fail-days'),
    };
  } catch (error) {
    err.write(`${describeError(error)}\n`);
    return 2;
  }
  const report = await runVerify(options);
  out.write(`${formatReport(report)}\n`);
  return report.ok ? 0 : 1;
}
