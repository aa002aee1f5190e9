#!/usr/bin/env node
/**
 * The host's one Node program (shipped in the bundle as dist/host/host-render.js),
 * built from the TypeScript the tests use. The bash scripts call it for what bash is
 * bad at: validating the host contract and rendering files.
 *
 *   host-render env                  the contract settings from $PH_ETC/host.env (the
 *                                    caller's PH_* environment wins), validated, defaults
 *                                    applied, as KEY=value lines for bash to export
 *   host-render site bootstrap|mtls  the nginx site
 *   host-render app-config           provider.json
 *   host-render template FILE name=value...   any other {{name}} template (the renewal unit)
 *   host-render pm2-online NAME      instances of NAME online, from `pm2 jlist` on stdin
 *   host-render default-server-sed   the sed expression that takes the distribution's
 *                                    port-80 default server over (nginx/sites.ts)
 *   host-render release-pointer|release-plan|release-checksums FILE [ID], release-status ...
 *                                    published data releases (release-commands.ts)
 *   host-render revocation-refresh|revocation-nginx, deny-list-check FILE
 *                                    CRLs and the deny list (revocation-commands.ts)
 *   host-render metrics-data|cloudwatch-agent-config name=value...
 *                                    the metrics the host publishes, the CloudWatch
 *                                    agent's configuration (metrics-commands.ts)
 *   host-render daily-report name=value...
 *                                    a day's access report and its e-mail (report-commands.ts)
 *
 * A problem exits 1 with one line each, naming the setting and the fix; never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHostEnv, hostEnvLines, HostEnvError, type HostSettings } from '../../contract/host-settings';
import { renderBootstrapSite, renderMtlsSite, TAKE_OVER_DEFAULT_SERVER_SED } from '../../nginx/sites';
import { renderTemplateFile, TemplateError } from '../../lib/render-template';
import { ConfigError } from '../../provider-app/config';
import { appConfig } from './app-config';
import { LayoutError, readLayout } from './host-layout';
import { pm2OnlineCount } from './pm2-online';
import { releaseChecksumLines, ReleaseFormatError, releasePlanLines, releasePointerLine, releaseStatusJson } from './release-commands';
import { bootstrapSiteValues, mtlsSiteValues } from './site-values';
import { denyListCheck, revocationNginx, revocationRefresh, type RevocationPaths } from './revocation-commands';
import { DenyListError } from '../../contract/deny-list';
import { cloudWatchAgentConfigCommand, metricsDataCommand, MetricsError } from './metrics-commands';
import { RevocationError } from './revocation/crl';
import { dailyReportCommand, ReportError } from './report-commands';

export const USAGE = 'usage: host-render env | site bootstrap|mtls | app-config | template FILE name=value... | pm2-online NAME | release-pointer FILE | release-plan FILE [ID] | release-checksums FILE | release-status SERVING SINCE [REJECTED_ID AT REASON] | revocation-refresh | revocation-nginx | deny-list-check FILE | metrics-data name=value... | cloudwatch-agent-config name=value... | daily-report name=value...';

export interface RenderIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
  readonly stdin: () => string;
}

/** The settings: host.env (when there is one) under the caller's PH_* environment. */
export function hostSettings(io: RenderIo): HostSettings {
  const file = join(io.env.PH_ETC ?? '/etc/provider-host', 'host.env');
  let text = '';
  try {
    text = io.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return decodeHostEnv(text, io.env, file);
}

/** Runs one command; returns what goes to stdout. Throws the errors `main` reports. */
export function runHostRender(argv: readonly string[], io: RenderIo): string {
  const [command, arg] = argv;
  switch (command) {
    case 'env':
      return hostEnvLines(hostSettings(io));
    case 'site': {
      const settings = hostSettings(io);
      const layout = readLayout(io.env);
      const templates = join(layout.PH_CURRENT, 'nginx', 'templates');
      if (arg === 'bootstrap') return renderBootstrapSite(bootstrapSiteValues(settings, layout), templates);
      if (arg === 'mtls') return renderMtlsSite(mtlsSiteValues(settings, layout), templates);
      break;
    }
    case 'app-config':
      return `${JSON.stringify(appConfig(hostSettings(io), readLayout(io.env)), null, 2)}\n`;
    case 'template':
      if (arg) return renderTemplateFile(arg, templateValues(argv.slice(2)));
      break;
    case 'default-server-sed':
      return `${TAKE_OVER_DEFAULT_SERVER_SED}\n`;
    case 'pm2-online':
      if (arg) return String(pm2OnlineCount(io.stdin(), arg));
      break;
    case 'release-pointer':
      if (arg) return releasePointerLine(io.readFile(arg), arg);
      break;
    case 'release-plan':
      if (arg) return releasePlanLines(io.readFile(arg), arg, argv[2]);
      break;
    case 'release-checksums':
      if (arg) return releaseChecksumLines(io.readFile(arg), arg);
      break;
    case 'release-status':
      if (arg) return releaseStatusJson(argv.slice(1), new Date());
      break;
    case 'revocation-nginx':
      return `${revocationNginx(hostSettings(io), revocationPaths(io.env))}\n`;
    case 'deny-list-check':
      if (arg) return denyListCheck(arg, io.readFile(arg));
      break;
    case 'metrics-data':
      return metricsDataCommand(hostSettings(io), templateValues(argv.slice(1)));
    case 'cloudwatch-agent-config':
      return cloudWatchAgentConfigCommand(hostSettings(io), templateValues(argv.slice(1)));
    default:
  }
  throw new UsageError(USAGE);
}

class UsageError extends Error {}

function revocationPaths(env: RenderIo['env']): RevocationPaths {
  const layout = readLayout(env);
  return { revocationDir: layout.PH_REVOCATION_DIR, trustBundle: layout.PH_TRUST_BUNDLE };
}

/** The commands that wait on the network; the others are synchronous (runHostRender). */
export async function runHostRenderAsync(argv: readonly string[], io: RenderIo, log: (line: string) => void): Promise<string> {
  if (argv[0] === 'revocation-refresh') return `${await revocationRefresh(hostSettings(io), revocationPaths(io.env), log)}\n`;
  if (argv[0] === 'daily-report') return dailyReportCommand(hostSettings(io), templateValues(argv.slice(1)), log, new Date());
  return runHostRender(argv, io);
}

function templateValues(pairs: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`template values are name=value, got ${JSON.stringify(pair)}`);
    values[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return values;
}

const EXPECTED = [HostEnvError, LayoutError, TemplateError, ConfigError, UsageError, ReleaseFormatError, DenyListError, RevocationError, MetricsError, ReportError];

async function main(): Promise<void> {
  try {
    const io: RenderIo = { env: process.env, readFile: (path) => readFileSync(path, 'utf8'), stdin: () => readFileSync(0, 'utf8') };
    process.stdout.write(await runHostRenderAsync(process.argv.slice(2), io, (line) => process.stderr.write(`${line}\n`)));
  } catch (error) {
    if (!EXPECTED.some((type) => error instanceof type)) throw error;
    process.stderr.write(`host-render: ${(error as Error).message.split('\n').join('\nhost-render: ')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
