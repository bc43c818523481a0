// The OpenAPI document describes the websocket hub as the engine serves it: the documented negotiate
// answers and fields are the ones the gateway gives.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  createTenantWithToken,
  setupHub,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';

let engine: InProcessEngine;
let tenant: TenantFixture;
let agent: Json;
let document: Json;

beforeAll(async () => {
  engine = await startInProcessEngine();
  tenant = await createTenantWithToken(engine);
  const hub = await setupHub(tenant.client);
  agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
  document = (await apiClient(engine.url, null).get('/docs/openapi.json')).body;
});

afterAll(async () => {
  await engine?.stop();
});

describe('the websocket hub in the OpenAPI document', () => {
  it('documents negotiate with the fields and refusals the gateway answers with', async () => {
    const negotiate = document.paths['/engine-chat-hub/negotiate']?.post;
    expect(negotiate).toBeDefined();
    const documented = Object.keys(
      document.components.schemas[
        negotiate.responses['200'].content['application/json'].schema.$ref.split('/').pop()
      ].properties,
    );
    const answer = await tenant.client.post(
      `/engine-chat-hub/negotiate?iId=${agent.integrationId}&negotiateVersion=1`,
    );
    expect(answer.status, answer.text).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual([...documented].sort());
    const anonymous = await apiClient(engine.url, null).post(
      `/engine-chat-hub/negotiate?iId=${agent.integrationId}`,
    );
    expect(anonymous.status).toBe(401);
    expect(Object.keys(negotiate.responses)).toContain('401');
    const unknown = await tenant.client.post(`/engine-chat-hub/negotiate?iId=${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(Object.keys(negotiate.responses)).toContain('404');
    const names = negotiate.parameters.map((p: Json) => p.name);
    expect(names).toEqual(expect.arrayContaining(['iId', 'cId', 'access_token', 'negotiateVersion']));
  });

  it('documents the websocket endpoint with its query and the 101 upgrade', () => {
    const hub = document.paths['/engine-chat-hub']?.get;
    expect(hub).toBeDefined();
    expect(Object.keys(hub.responses)).toEqual(expect.arrayContaining(['101', '400', '401', '404', '503']));
    expect(hub.parameters.find((p: Json) => p.name === 'iId')?.required).toBe(true);
  });
});

describe('the HTTP API in the OpenAPI document', () => {
  /** A schema that says nothing but "an object". */
  const bare = (schema: Json | undefined): boolean =>
    schema !== undefined &&
    schema.$ref === undefined &&
    schema.properties === undefined &&
    schema.allOf === undefined &&
    schema.oneOf === undefined &&
    schema.items === undefined;
  const resolve = (schema: Json): Json =>
    schema.$ref ? document.components.schemas[String(schema.$ref).split('/').pop() as string] : schema;

  it('describes every JSON request body and answer with its fields', () => {
    const thin: string[] = [];
    for (const [path, operations] of Object.entries(document.paths as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(operations as Record<string, Json>)) {
        const request = operation.requestBody?.content?.['application/json']?.schema;
        const answer = operation.responses?.['200']?.content?.['application/json']?.schema;
        if (bare(request)) thin.push(`${method} ${path} body`);
        if (bare(answer)) thin.push(`${method} ${path} 200`);
        for (const schema of [request, answer]) {
          if (schema?.$ref) expect(resolve(schema), `${method} ${path} ${schema.$ref}`).toBeDefined();
        }
      }
    }
    expect(thin).toEqual([]);
  });

  it('publishes the request schemas the API enforces (a hub without its required field is refused)', async () => {
    const hubCreate = resolve(
      document.paths['/api/v1/hubs'].post.requestBody.content['application/json'].schema,
    );
    expect(hubCreate.required).toEqual(['name', 'description']);
    const refused = await tenant.client.post('/api/v1/hubs', { name: 'No description' });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/description/);
    const tenantUpdate = resolve(
      document.paths['/api/v1/tenants/{tenantId}'].put.requestBody.content['application/json'].schema,
    );
    expect(Object.keys(tenantUpdate.properties).sort()).toEqual(['accountHolderEmail', 'name']);
  });
});
