import { createServer, type Server } from 'node:net';
import { acceptsConnections, canListen, freePort } from './ports';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function occupy(port: number): Promise<void> {
  server = createServer();
  return new Promise((resolve) => server!.listen(port, '127.0.0.1', resolve));
}

it('freePort gives a port that can be bound, and canListen says no once it is taken', async () => {
  const port = await freePort();
  expect(port).toBeGreaterThan(0);
  expect(await canListen('127.0.0.1', port)).toBe(true);
  expect(await acceptsConnections('127.0.0.1', port)).toBe(false);
  await occupy(port);
  expect(await canListen('127.0.0.1', port)).toBe(false);
  expect(await acceptsConnections('127.0.0.1', port)).toBe(true);
});

it('canListen says no for an address this machine does not have', async () => {
  expect(await canListen('192.0.2.1', 0)).toBe(false);
});
