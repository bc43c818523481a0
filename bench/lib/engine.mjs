// Hookster under test: started from the build (packages/server/dist) on a fresh SQLite file in a temporary
// folder, and provisioned through its own HTTP API (tenant → hub → integrations → conversations).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { spawnChild, stopProcess, waitUntil } from './proc.mjs';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BUILT_MAIN = join(REPO_ROOT, 'packages', 'server', 'dist', 'cli', 'main.js');
const SOURCE_MAIN = join(REPO_ROOT, 'packages', 'server', 'src', 'cli', 'main.ts');

function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

// Starts `hookster serve`; `env` adds or overrides HOOKSTER_* settings. ENGINE_FROM=src runs the sources
// with tsx; ENGINE_MAIN=<file> (or `main`) runs another entry point (another build, or to check the harness
// itself); ENGINE_LOG=1 echoes
// its output, ENGINE_LOG_LEVEL sets its log level (default warn).
export async function startEngine({
  env = {},
  role = 'all',
  cpuProfDir = null,
  dir = null,
  main: entry,
  nodeArgs: extraNodeArgs = [],
} = {}) {
  const fromSource = process.env.ENGINE_FROM === 'src';
  const main = entry ?? process.env.ENGINE_MAIN ?? (fromSource ? SOURCE_MAIN : BUILT_MAIN);
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'hookster-bench-engine-'));
  const port = await freePort();
  const adminToken = randomBytes(24).toString('hex');
  const nodeArgs = [];
  if (cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  if (fromSource) nodeArgs.push('--import', 'tsx');
  nodeArgs.push(...extraNodeArgs);
  const child = spawnChild(process.execPath, [...nodeArgs, main, 'serve', '--role', role], {
    cwd: REPO_ROOT,
    echo: process.env.ENGINE_LOG === '1',
    env: {
      HOOKSTER_DATABASE_URL: `sqlite:${join(dataDir, 'hookster.db')}`,
      HOOKSTER_DATA_DIR: dataDir,
      HOOKSTER_HOST: '127.0.0.1',
      HOOKSTER_PORT: String(port),
      HOOKSTER_ADMIN_TOKEN: adminToken,
      HOOKSTER_EGRESS_ALLOW: '127.0.0.1/32',
      HOOKSTER_LOG_LEVEL: process.env.ENGINE_LOG_LEVEL ?? 'warn',
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const engine = {
    child,
    pid: child.pid,
    url,
    adminToken,
    dataDir,
    async stop({ keepData = false } = {}) {
      // SIGINT as well as SIGTERM end `hookster serve` cleanly, which --cpu-prof needs to write its profile.
      await stopProcess(child, 15_000);
      if (!keepData && !dir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(
      'the engine to answer /healthz',
      async () => {
        if (child.exitCode !== null) throw new Error(`engine exited (${child.exitCode}):\n${child.tail}`);
        const res = await request(`${url}/healthz`);
        await res.body.dump();
        return res.statusCode === 200;
      },
      30_000,
      100,
    ).catch((err) => {
      throw new Error(`${err.message}\n${child.tail}`);
    });
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}

// One JSON API call; throws with the answer on a non-2xx.
export async function api(base, method, path, { token, body, form } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await request(`${base}${path}`, { method, headers, body: payload });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 500)}`);
  }
  return text.length > 0 ? JSON.parse(text) : null;
}

function signingKeys(integration) {
  const c = integration.configuration ?? {};
  return {
    publicSigningKey: c.publicSigningKey ?? integration.publicSigningKey,
    privateSigningKey: c.privateSigningKey ?? integration.privateSigningKey,
  };
}

// A tenant with a hub holding one Customer (Direct) integration, `systems` System integrations subscribed to
// `message` and pointing at `webhookUrl`, and `conversations` established conversations. Returns the ids,
// the submitting token and every System integration's key pair.
export async function provision(
  engine,
  { systems, conversations, webhookUrl, statusId = 3000, log = () => {} },
) {
  const admin = engine.adminToken;
  const suffix = randomBytes(4).toString('hex');
  const tenant = await api(engine.url, 'POST', '/api/v1/tenants', {
    token: admin,
    body: { name: `bench-${suffix}`, accountHolderEmail: 'bench@example.com' },
  });
  // Submit as the tenant would (client credentials → bearer token); fall back to the admin token.
  let token = admin;
  try {
    const client = await api(engine.url, 'POST', `/api/v1/tenants/${tenant.tenantId}/clients`, {
      token: admin,
      body: {},
    });
    const issued = await api(engine.url, 'POST', '/connect/token', {
      form: {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
      },
    });
    token = issued.access_token;
  } catch (err) {
    log(`tenant token unavailable, submitting with the admin token (${err.message.split('\n')[0]})`);
  }
  const hub = await api(engine.url, 'POST', '/api/v1/hubs', {
    token,
    body: { tenantId: tenant.tenantId, name: `bench-hub-${suffix}`, description: 'benchmark' },
  });
  const customer = await api(engine.url, 'POST', `/api/v1/integrations/hubs/${hub.hubId}`, {
    token,
    body: { channelId: 'Direct', name: 'bench-customer', configuration: { integrationType: 'Customer' } },
  });
  const keys = {};
  const systemIds = [];
  for (let i = 0; i < systems; i += 1) {
    const created = await api(engine.url, 'POST', `/api/v1/integrations/hubs/${hub.hubId}`, {
      token,
      body: {
        channelId: 'System',
        name: `bench-system-${i}`,
        statusId,
        configuration: { webhookUrl, events: ['message'] },
      },
    });
    let k = signingKeys(created);
    if (!k.privateSigningKey)
      k = signingKeys(
        await api(engine.url, 'GET', `/api/v1/integrations/${created.integrationId}`, { token }),
      );
    keys[k.publicSigningKey] = k.privateSigningKey;
    systemIds.push(created.integrationId);
  }
  const conversationIds = new Array(conversations);
  let next = 0;
  const establish = async () => {
    while (next < conversations) {
      const i = next++;
      const conv = await api(engine.url, 'POST', '/api/v1/conversations/establish', {
        token,
        body: {
          integrationId: customer.integrationId,
          binding: `bench-${suffix}-${i}`,
          channelType: 'Direct',
        },
      });
      conversationIds[i] = conv.conversationId;
    }
  };
  await Promise.all(Array.from({ length: 8 }, establish));
  return {
    tenantId: tenant.tenantId,
    hubId: hub.hubId,
    customerId: customer.integrationId,
    systemIds,
    token,
    keys,
    conversationIds,
  };
}

// Total deliveries of an integration in one status, from the delivery log API (null if it is not there yet).
export async function deliveryCount(engine, token, integrationId, status) {
  try {
    const page = await api(
      engine.url,
      'GET',
      `/api/v1/integrations/${integrationId}/deliveries?status=${status}&pageSize=1`,
      { token },
    );
    return typeof page?.total === 'number' ? page.total : null;
  } catch {
    return null;
  }
}
