/** Raw HTTP for hostile requests (bodies cut short, lying headers) that fetch would not send. Loopback only. */
import { connect } from 'node:net';

/** Sends `bytes` on one connection to 127.0.0.1:`port`; resolves with what came back before it closed ('' if nothing), or after `waitMs`. */
export function rawHttp(port: number, bytes: string | Buffer, waitMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c) => (got += c.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}
