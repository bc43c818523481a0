// Raw HTTP over a socket, for requests no HTTP client would send (bad framing, bad targets, upgrades).
import { connect } from 'node:net';

/** Writes `request` as it stands to the engine at `baseUrl`; resolves with the answer's first line ('' if none). */
export function rawStatusLine(baseUrl: string, request: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data.includes('\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}
