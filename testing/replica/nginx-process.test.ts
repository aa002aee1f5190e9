import { nginxMissing } from './nginx-process';

it('a missing nginx is named with the package and the fix, not "nullnull"', () => {
  const enoent = Object.assign(new Error('spawnSync /usr/sbin/nginx ENOENT'), { code: 'ENOENT' });
  expect(nginxMissing(enoent, '/usr/sbin/nginx')).toBe(
    'nginx is not installed (no /usr/sbin/nginx): install the Debian package nginx (apt-get install -y nginx; npm test does it when run as root), or set NGINX_BIN',
  );
  expect(nginxMissing(Object.assign(new Error('EACCES'), { code: 'EACCES' }), '/x/nginx')).toBe('cannot run /x/nginx: EACCES');
});
