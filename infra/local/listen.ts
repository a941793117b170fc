/**
 * How the local AWS endpoints (Lambda, Secrets Manager, Step Functions) listen and close: on a
 * port of their own (0: any free one, as the tests bind), closing their keep-alive connections too
 * so that stopping the stack never waits for an idle SDK socket.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** `http://host:port` (an IPv6 host in brackets), for `AWS_ENDPOINT_URL_*`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export const listen = async (
  server: Server,
  options: { readonly host?: string; readonly port?: number } = {},
): Promise<Listening> => {
  const host = options.host ?? '127.0.0.1';
  server.listen(options.port ?? 0, host);
  await new Promise<void>((ready, failed) => server.once('listening', ready).once('error', failed));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((done, failed) => {
        server.close((error) => (error ? failed(error) : done()));
        server.closeAllConnections();
      }),
  };
};
