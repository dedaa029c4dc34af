import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { fenceableSockets } from './fenced-producer';

describe('fenceableSockets', () => {
  let server: Server;
  let port: number;
  const accepted: Socket[] = [];

  beforeAll(async () => {
    server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const open = (socketFactory: ReturnType<typeof fenceableSockets>['socketFactory']) =>
    new Promise<Socket>((resolve, reject) => {
      // kafkajs passes its `ssl` setting, undefined for plaintext (any object means TLS).
      const socket = socketFactory({ host: '127.0.0.1', port, ssl: undefined as never, onConnect: () => resolve(socket) });
      socket.once('error', reject);
    });

  it('connects until fenced, then destroys its open sockets and refuses new ones', async () => {
    const { socketFactory, fence } = fenceableSockets();
    const live = await open(socketFactory);
    expect(live.destroyed).toBe(false);

    fence();
    expect(live.destroyed).toBe(true);
    await expect(open(socketFactory)).rejects.toThrow('producer fenced after a failed send');
  });

  it('fences only its own sockets', async () => {
    const first = fenceableSockets();
    const second = fenceableSockets();
    const other = await open(second.socketFactory);
    first.fence();
    expect(other.destroyed).toBe(false);
    other.destroy();
  });
});
