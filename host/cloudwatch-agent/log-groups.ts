/**
 * The CloudWatch Logs groups of an environment, by what they hold, defined once: the
 * stack creates them (stacks/constructs/monitoring.ts) and the host's agent configuration
 * ships to them (host-render cloudwatch-agent-config). No imports: the host renderer
 * bundles it.
 */
export type LogGroupKey = 'nginxAccess' | 'nginxError' | 'app' | 'hostScripts';

/** The log groups of an environment, by what they hold. */
export function logGroupNamesFor(environment: string): Record<LogGroupKey, string> {
  return {
    nginxAccess: `/provider-host/${environment}/nginx-access`,
    nginxError: `/provider-host/${environment}/nginx-error`,
    app: `/provider-host/${environment}/app`,
    hostScripts: `/provider-host/${environment}/host-scripts`,
  };
}
