/**
 * The host's renderer, as the scripts call it: the settings from host.env, the layout
 * from the environment, and each file it renders checked by what consumes it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeHostEnv } from '../../contract/host-settings';
import { parseProviderConfig } from '../../provider-app/config';
import { runHostRender, USAGE, type RenderIo } from './host-render';

const REPO = resolve(__dirname, '..', '..');
let etc: string;

beforeEach(() => {
  etc = mkdtempSync(join(tmpdir(), 'host-render-'));
  writeFileSync(
    join(etc, 'host.env'),
    encodeHostEnv({
      domain: 'provider.example.com', region: 'eu-west-2', bucket: 'bucket-1', bundleKey: 'bundles/abc.zip',
      issuer: 'https://issuer.example.com/', clientId: 'client-1', scope: 'energydata',
      tlsCertParam: '/p/cert', tlsKeyParam: '/p/key', hostConfigParam: '/p/host-config', authzCacheSeconds: 3,
    }),
  );
});
afterEach(() => rmSync(etc, { recursive: true, force: true }));

const LAYOUT = {
  PH_CURRENT: REPO, PH_SRV: '/srv/provider', PH_SOCKET: '/run/provider/provider.sock', PH_SECRETS_DIR: '/etc/provider-host/secrets',
  PH_TRUST_BUNDLE: '/etc/provider-host/trust-bundle.pem', PH_NGINX_SHARE: '/etc/nginx/provider-host', PH_NGINX_LOG_DIR: '/var/log/nginx',
  PH_NGINX_AUTHZ_CACHE_DIR: '/var/cache/provider-host/nginx-authz', PH_HTTP_LISTEN_V4: '80', PH_HTTP_LISTEN_V6: '[::]:80',
  PH_HTTPS_LISTEN_V4: '443', PH_HTTPS_LISTEN_V6: '[::]:443', PH_HTTPS_ORIGIN: 'https://provider.example.com',
  PH_ACME_WEBROOT: '/var/lib/provider-host/acme', PH_LE_LIVE: '/etc/letsencrypt/live/provider.example.com', PH_REVOCATION_DIR: '/etc/provider-host/revocation',
  PH_APP_STATE_DIR: '/var/lib/provider-host/app',
};

const io = (env: Record<string, string | undefined> = {}, stdin = ''): RenderIo => ({
  env: { PH_ETC: etc, ...LAYOUT, ...env },
  readFile: (path) => require('node:fs').readFileSync(path, 'utf8') as string,
  stdin: () => stdin,
});

describe('host-render', () => {
  it('env: every setting, validated, with defaults, the caller environment winning', () => {
    const lines = runHostRender(['env'], io({ PH_APP_INSTANCES: '4' })).split('\n');
    expect(lines).toContain('PH_DOMAIN=provider.example.com');
    expect(lines).toContain('PH_AUTHZ_CACHE_SECONDS=3');
    expect(lines).toContain('PH_APP_INSTANCES=4');
    expect(lines).toContain('PH_TRUST_BUNDLE_KEY=trust/client-ca-bundle.pem');
  });

  it('site mtls: the production template with this host settings and layout', () => {
    const site = runHostRender(['site', 'mtls'], io());
    expect(site).toContain('server_name provider.example.com;');
    expect(site).toContain('ssl_client_certificate /etc/provider-host/trust-bundle.pem;');
    expect(site).toContain('server unix:/run/provider/provider.sock');
    expect(site).not.toMatch(/\{\{|\}\}/);
  });

  it('site bootstrap: the HTTP-only ACME site', () => {
    expect(runHostRender(['site', 'bootstrap'], io())).toContain('root /var/lib/provider-host/acme;');
  });

  it("app-config: provider.json the app's own schema accepts, with the settings that cross", () => {
    const config = JSON.parse(runHostRender(['app-config'], io({ PH_ISSUER_CA_FILE: '/etc/provider-host/issuer-ca.pem' })));
    expect(config).toEqual({
      socket: '/run/provider/provider.sock', dataDir: '/srv/provider/shared_data', issuer: 'https://issuer.example.com/', clientId: 'client-1',
      tlsCert: '/etc/provider-host/secrets/transport.crt', tlsKey: '/etc/provider-host/secrets/transport.key', tlsCa: '/etc/provider-host/issuer-ca.pem',
      scope: 'energydata', accelRedirectPrefix: '/_datasets/', authzCacheSeconds: 3, profile: 'open-energy', tokenValidation: 'introspection',
    });
    expect(parseProviderConfig(config, '/').authzCacheSeconds).toBe(3);
    expect(JSON.parse(runHostRender(['app-config'], io({ PH_ACCEL_REDIRECT: 'false' })))).not.toHaveProperty('accelRedirectPrefix');
  });

  it('app-config in ib1: the token checks, and the heartbeat\'s access log and shared state folder', () => {
    const config = JSON.parse(runHostRender(['app-config'], io({ PH_TRUST_PROFILE: 'ib1', PH_TOKEN_VALIDATION: 'jwt', PH_TOKEN_ALGORITHMS: 'ES256,ES384', PH_TOKEN_AUDIENCE: 'https://provider.example.com/', PH_HEARTBEAT_PATH: '/hb', PH_SCOPE: '' })));
    expect(config).toMatchObject({
      profile: 'ib1', tokenValidation: 'jwt', tokenAlgorithms: ['ES256', 'ES384'], tokenAudience: 'https://provider.example.com/', heartbeatPath: '/hb',
      accessLogFile: '/var/log/nginx/access.json.log', stateDir: '/var/lib/provider-host/app',
    });
    // ib1 without a default licence: no scope at all (each shared dataset names its own).
    expect(config).not.toHaveProperty('scope');
    expect(parseProviderConfig(config, '/')).toMatchObject({ profile: 'ib1', tokenAlgorithms: ['ES256', 'ES384'], stateDir: '/var/lib/provider-host/app' });
  });

  it('site mtls per profile: the TLS snippet, who refuses a missing certificate, the heartbeat route', () => {
    const openEnergy = runHostRender(['site', 'mtls'], io());
    expect(openEnergy).toContain('include /etc/nginx/provider-host/snippets/tls-open-energy.conf;');
    expect(openEnergy).toMatch(/"~\^NONE " 1;/);
    const ib1 = runHostRender(['site', 'mtls'], io({ PH_TRUST_PROFILE: 'ib1', PH_HEARTBEAT_PATH: '/hb' }));
    expect(ib1).toContain('include /etc/nginx/provider-host/snippets/tls-ib1.conf;');
    expect(ib1).toMatch(/"~\^NONE " 0;/);
    expect(ib1).toContain('"~*^(GET|HEAD) /hb$" @app;');
  });

  it('names a missing layout variable (the scripts pass them) and a bad setting', () => {
    expect(() => runHostRender(['site', 'mtls'], io({ PH_SOCKET: undefined }))).toThrow('the host scripts did not pass PH_SOCKET (host/scripts/lib/common.sh sets them)');
    expect(() => runHostRender(['env'], io({ PH_AUTHZ_CACHE_SECONDS: '60' }))).toThrow(/PH_AUTHZ_CACHE_SECONDS \(authzCacheSeconds\): 60 is too long/);
  });

  it('template: any other {{name}} file, with the strict renderer', () => {
    const unit = runHostRender(['template', join(REPO, 'host', 'systemd', 'provider-certbot-renew.service.tmpl'), 'certbot=/usr/bin/certbot', 'ph_etc=/etc/provider-host', 'le_dir=/etc/letsencrypt', 'le_work_dir=/var/lib/letsencrypt', 'le_logs_dir=/var/log/letsencrypt', 'result_script=/opt/provider-host/current/host/scripts/certbot-renew-result.sh'], io());
    expect(unit).toContain('/usr/bin/certbot');
    expect(() => runHostRender(['template', join(REPO, 'host', 'systemd', 'provider-certbot-renew.service.tmpl'), 'certbot=/usr/bin/certbot'], io())).toThrow(/no value for placeholder/);
  });

  it('pm2-online: counts the named app online in pm2 jlist, banner and all', () => {
    const jlist = `[PM2] banner\n${JSON.stringify([
      { name: 'provider', pm2_env: { status: 'online' } },
      { name: 'provider', pm2_env: { status: 'stopping' } },
      { name: 'pm2-logrotate', pm2_env: { status: 'online' } },
    ])}`;
    expect(runHostRender(['pm2-online', 'provider'], io({}, jlist))).toBe('1');
    expect(runHostRender(['pm2-online', 'provider'], io({}, 'not json'))).toBe('0');
  });

  it('usage for anything else', () => {
    expect(() => runHostRender(['render'], io())).toThrow(USAGE);
    expect(() => runHostRender(['site', 'other'], io())).toThrow(USAGE);
  });
});
