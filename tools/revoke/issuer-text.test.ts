import { issuerTextProblem } from './issuer-text';

describe('issuerTextProblem', () => {
  it.each([
    'CN=Issuing CA,O=Example,C=GB',
    'CN=Issuing CA,OU=a\\"b\\\\c\\<d\\>e\\;f,O=Trust\\, Framework\\+Test,C=GB',
    'ST=\\ ,L=#,CN=trail\\ ,OU=\\#hash,O=\\ lead',
    'CN=Zo\\C3\\AB \\E6\\97\\A5,O=B\\C3\\A4cker',
    'emailAddress=a@b.c+UID=a1+CN=Alice,O=Org,DC=com,DC=example',
    'CN=x,1.3.6.1.4.1.99999.1=#130770726976617465',
    'CN=x/y=z',
    'O=O,CN=',
  ])('accepts what OpenSSL prints: %s', (dn) => {
    expect(issuerTextProblem(dn)).toBeUndefined();
  });

  it.each([
    ['openssl\'s "issuer=" in front', 'issuer=CN=Issuing CA,O=Example', 'drop the "issuer=" in front: openssl prints it, nginx does not'],
    ["openssl's default spelling", 'C = GB, O = Example, CN = Issuing CA', '"C = GB" is not type=value (nginx prints no spaces around , + and =)'],
    ['a space after the comma', 'CN=Issuing CA, O=Example', '" O=Example" is not type=value (nginx prints no spaces around , + and =)'],
    ['a raw JSON log line (backslashes doubled)', 'CN=Issuing CA,O=Trust\\\\, Framework\\\\+Test', '" Framework\\\\" is not type=value (nginx prints no spaces around , + and =)'],
    ['lower-case hex', 'O=B\\c3\\a4cker', 'a \\ before "c": nginx puts one only before , + " \\ < > ; # or a space, and writes other bytes as \\XX (upper-case hex)'],
    ['a backslash at the end', 'CN=x\\', 'a \\ before nothing: nginx puts one only before , + " \\ < > ; # or a space, and writes other bytes as \\XX (upper-case hex)'],
    ['a bare ;', 'CN=a;b', 'a bare ;: nginx prints it as \\;'],
    ['a bare trailing space', 'CN=x ,O=y', '"CN=x " has a bare space at its edge: nginx prints it as "\\ "'],
    ['a bare leading #', 'CN=#hash', '"CN=#hash" starts with a bare #: nginx prints it as "\\#"'],
  ])('refuses %s', (_, dn, problem) => {
    expect(issuerTextProblem(dn)).toBe(problem);
  });
});
