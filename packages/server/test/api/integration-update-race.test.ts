// Concurrent updates of one integration through the real engine: each update answered 200 must hold in
// the final state as if the updates had run one after the other (a field an update omits comes from the
// state at its write, never from a state read before another update was written).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  setupHub,
  type ApiResponse,
  type HubFixture,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

/** Integrations updated at once; each gets one rename and one status change sent together. */
const PAIRS = 40;

let engine: RunningEngine;
let tenant: TenantFixture;
let hub: HubFixture;

beforeAll(async () => {
  engine = await startEngine();
  tenant = await createTenantWithToken(engine);
  hub = await setupHub(tenant.client);
});

afterAll(async () => {
  await engine?.stop();
});

async function createIntegrations(count: number, statusId: number): Promise<Json[]> {
  const created: Json[] = [];
  for (let n = 0; n < count; n++) {
    created.push(
      await hub.addIntegration({
        channelId: 'System',
        statusId,
        configuration: { webhookUrl: `https://hooks.example.com/race/${n}`, events: ['message'] },
      }),
    );
  }
  return created;
}

/**
 * Sends the updates of one integration at once (PUT) and checks the outcome against every serial order:
 * each answer is 200 or, only when `refusals` allows it, the 409 of an update that kept losing to the
 * others (it changed nothing); the final state is the one some answered update wrote last, and it holds
 * the status and configuration of every answered update that set them, and the name of one rename.
 */
async function updateAtOnce(count: number, refusals: boolean): Promise<void> {
  const [integration] = await createIntegrations(1, 3000);
  const id = integration.integrationId as string;
  const configuration = { webhookUrl: 'https://hooks.example.com/race/changed', events: ['message:agent'] };
  const bodies: Json[] = [
    { statusId: 3002 },
    { configuration },
    ...Array.from({ length: count - 2 }, (_, n) => ({ name: `many-${count}-${n}` })),
  ];
  const answers = await Promise.all(
    bodies.map((body) => tenant.client.put(`/api/v1/integrations/${id}`, body)),
  );
  const written: { body: Json; state: Json }[] = [];
  answers.forEach((answer, n) => {
    if (answer.status === 200) written.push({ body: bodies[n], state: answer.body });
    else if (refusals)
      expect(answer.body, answer.text).toMatchObject({ status: 409, errors: [{ code: 108 }] });
    else expect(answer.status, answer.text).toBe(200);
  });
  const final = (await tenant.client.get(`/api/v1/integrations/${id}`)).body;
  expect(written.map((w) => w.state)).toContainEqual(final);
  const renames = written.flatMap((w) => (w.body.name === undefined ? [] : [w.body.name as string]));
  expect(renames.length === 0 ? [integration.name] : renames).toContain(final.name);
  const paused = written.some((w) => w.body.statusId === 3002);
  expect(final.statusId).toBe(paused ? 3002 : 3000);
  const reconfigured = written.some((w) => w.body.configuration !== undefined);
  expect(final.configuration).toMatchObject(reconfigured ? configuration : integration.configuration);
  expect(final.configuration.privateSigningKey).toBe(integration.configuration.privateSigningKey);
}

/**
 * Sends, for every integration at once, a rename and a status change (one with the PUT route, the other
 * with the POST alias, alternating), then checks each final state: the rename's name and the status
 * change's status, whichever order they took, since neither names the other's field.
 */
async function renameWhileChangingStatus(statusId: number, startStatusId: number): Promise<void> {
  const integrations = await createIntegrations(PAIRS, startStatusId);
  const answers = await Promise.all(
    integrations.map(async (integration, n) => {
      const id = integration.integrationId as string;
      const name = `renamed-${statusId}-${n}`;
      const rename = (): Promise<ApiResponse<Json>> =>
        n % 2 === 0
          ? tenant.client.put(`/api/v1/integrations/${id}`, { name })
          : tenant.client.post(`/api/v1/integrations/hubs/${id}`, { name });
      const status = (): Promise<ApiResponse<Json>> =>
        n % 2 === 0
          ? tenant.client.post(`/api/v1/integrations/hubs/${id}`, { statusId })
          : tenant.client.put(`/api/v1/integrations/${id}`, { statusId });
      const [renamed, changed] = await Promise.all([rename(), status()]);
      return { integration, name, renamed, changed };
    }),
  );
  const lost: string[] = [];
  for (const { integration, name, renamed, changed } of answers) {
    const read = await tenant.client.get(`/api/v1/integrations/${integration.integrationId}`);
    expect(read.status).toBe(200);
    // Two updates at once: each loses at most once to the other, so neither is refused.
    expect(renamed.status, renamed.text).toBe(200);
    expect(changed.status, changed.text).toBe(200);
    if (read.body.name !== name || read.body.statusId !== statusId) {
      lost.push(
        `${integration.integrationId}: name ${read.body.name} statusId ${read.body.statusId}, ` +
          `expected ${name} ${statusId}`,
      );
    }
    // Everything else stays as created (no update named it).
    expect(read.body.configuration).toEqual(integration.configuration);
  }
  expect(lost).toEqual([]);
}

describe('concurrent integration updates', () => {
  it('keeps a pause sent together with a rename of the same integration', async () => {
    await renameWhileChangingStatus(3002, 3000);
  });

  it('keeps a resume sent together with a rename of the same integration', async () => {
    await renameWhileChangingStatus(3000, 3002);
  });

  it('applies eight concurrent updates of one integration one after the other without refusing any', async () => {
    // An update loses only to an update written meanwhile, so with eight at once none loses eight times.
    await updateAtOnce(8, false);
  });

  it('answers more concurrent updates of one integration than it retries with 200 or 409, never losing one', async () => {
    await updateAtOnce(24, true);
  });
});
