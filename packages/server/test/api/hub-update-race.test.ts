// Concurrent updates of one hub through the real engine: each update answered 200 must hold in the
// final state as if the updates had run one after the other (a field an update omits comes from the
// state at its write, never from a state read before another update was written).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  uniqueName,
  type ApiResponse,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

/** Hubs updated at once; each gets one rename and one status change sent together. */
const PAIRS = 40;

let engine: RunningEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startEngine();
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
});

async function createHubs(count: number, statusId: number): Promise<Json[]> {
  const created: Json[] = [];
  for (let n = 0; n < count; n++) {
    const hub = await tenant.client.post('/api/v1/hubs', {
      name: uniqueName('race'),
      description: 'as created',
      statusId,
    });
    expect(hub.status, hub.text).toBe(200);
    created.push(hub.body);
  }
  return created;
}

/**
 * Sends, for every hub at once, a rename and a status change, then checks each final state: the
 * rename's name and the status change's status, whichever order they took, since neither names the
 * other's field.
 */
async function renameWhileChangingStatus(statusId: number, startStatusId: number): Promise<void> {
  const hubs = await createHubs(PAIRS, startStatusId);
  const answers = await Promise.all(
    hubs.map(async (hub, n) => {
      const name = `renamed-${statusId}-${n}-${hub.hubId as string}`;
      const [renamed, changed] = await Promise.all([
        tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { name }),
        tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId }),
      ]);
      return { hub, name, renamed, changed };
    }),
  );
  const lost: string[] = [];
  for (const { hub, name, renamed, changed } of answers) {
    // Two updates at once: each loses at most once to the other, so neither is refused.
    expect(renamed.status, renamed.text).toBe(200);
    expect(changed.status, changed.text).toBe(200);
    const read = await tenant.client.get(`/api/v1/hubs/${hub.hubId}`);
    expect(read.status).toBe(200);
    if (read.body.name !== name || read.body.statusId !== statusId) {
      lost.push(
        `${hub.hubId}: name ${read.body.name} statusId ${read.body.statusId}, expected ${name} ${statusId}`,
      );
    }
    expect(read.body.description).toBe('as created');
  }
  expect(lost).toEqual([]);
}

/**
 * Sends the updates of one hub at once and checks the outcome against every serial order: each answer
 * is 200 or, only when `refusals` allows it, the 409 of an update that kept losing to the others (it
 * changed nothing); the final state is the one some answered update wrote last, and it holds the status
 * and description of every answered update that set them, and the name of one rename.
 */
async function updateAtOnce(count: number, refusals: boolean): Promise<void> {
  const [hub] = await createHubs(1, 2000);
  const bodies: Json[] = [
    { statusId: 2002 },
    { description: 'changed' },
    ...Array.from({ length: count - 2 }, (_, n) => ({ name: uniqueName(`many-${count}-${n}`) })),
  ];
  const answers: ApiResponse<Json>[] = await Promise.all(
    bodies.map((body) => tenant.client.put(`/api/v1/hubs/${hub.hubId}`, body)),
  );
  const written: { body: Json; state: Json }[] = [];
  answers.forEach((answer, n) => {
    if (answer.status === 200) written.push({ body: bodies[n], state: answer.body });
    else if (refusals)
      expect(answer.body, answer.text).toMatchObject({ status: 409, errors: [{ code: 108 }] });
    else expect(answer.status, answer.text).toBe(200);
  });
  const final = (await tenant.client.get(`/api/v1/hubs/${hub.hubId}`)).body;
  expect(written.map((w) => w.state)).toContainEqual(final);
  const renames = written.flatMap((w) => (w.body.name === undefined ? [] : [w.body.name as string]));
  expect(renames.length === 0 ? [hub.name] : renames).toContain(final.name);
  const paused = written.some((w) => w.body.statusId === 2002);
  expect(final.statusId).toBe(paused ? 2002 : 2000);
  const described = written.some((w) => w.body.description !== undefined);
  expect(final.description).toBe(described ? 'changed' : 'as created');
}

describe('concurrent hub updates', () => {
  it('keeps a pause sent together with a rename of the same hub', async () => {
    await renameWhileChangingStatus(2002, 2000);
  });

  it('keeps a resume sent together with a rename of the same hub', async () => {
    await renameWhileChangingStatus(2000, 2002);
  });

  it('applies eight concurrent updates of one hub one after the other without refusing any', async () => {
    // An update loses only to an update written meanwhile, so with eight at once none loses eight times.
    await updateAtOnce(8, false);
  });

  it('answers more concurrent updates of one hub than it retries with 200 or 409, never losing one', async () => {
    await updateAtOnce(24, true);
  });
});
