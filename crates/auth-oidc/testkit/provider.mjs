// A real OpenID Provider (the certified `oidc-provider` package) for the
// tests: one confidential client, PKCE required, its own login and consent
// pages (devInteractions). It listens on a port the system picks and
// prints `{"issuer": ..., "port": ...}` as its first line.
//
// Environment: CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS (comma separated).
// Accounts: any login signs in as subject = the login; its email is the
// login when it has an `@`, else `<login>@example.com`; logins starting
// with `unverified` get `email_verified: false`.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: (process.env.REDIRECT_URIS || '').split(',').filter(Boolean),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    async findAccount(ctx, id) {
      const email = id.includes('@') ? id : `${id}@example.com`;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email,
            email_verified: !id.startsWith('unverified'),
            name: `User ${id}`,
          };
        },
      };
    },
  });
  // The provider's pages are plain HTTP on loopback.
  provider.proxy = false;
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

// Ends with the test that started it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
