// A port for an engine that restarts on the same URL. Port 0 takes one from the kernel's ephemeral
// range, where every outgoing connection on the machine (other tests, PostgreSQL pools) also takes its
// local port: one could take the engine's port while it is down, and the restart then fails with
// EADDRINUSE. This one comes from below that range, where only listeners take ports.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    if (Number.isInteger(value) && value > 20_000) return value;
  } catch {
    // Not Linux: the usual range starts at 32768 (49152 on others).
  }
  return 32_768;
}

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port free now on 127.0.0.1, below the ephemeral range. */
export async function stablePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = 20_000;
  for (let i = 0; i < 100; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await free(port)) return port;
  }
  throw new Error(`no free port in ${low}..${high}`);
}
