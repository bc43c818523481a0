// New conversations (ids, tokenId, profile, fun names) and which integration may establish one.
import { describe, expect, it } from 'vitest';
import { establishingIntegration, funName, newConversation } from './conversation.js';
import { HooksterError } from './errors.js';
import { isGuid } from './ids.js';
import type { Integration } from './types.js';

const NOW = Date.parse('2026-12-04T20:00:00.000Z');

function integration(
  channelId: 'Direct' | 'System',
  integrationTypeId: Integration['integrationTypeId'],
  statusId = 3000,
): Integration {
  return {
    integrationId: '5f1e2d3c-4b5a-4968-a7b6-01757bd29640',
    hubId: '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278',
    tenantId: '4f3a9c12-d87b-4e5a-9b2c-01757696094e',
    integrationTypeId,
    channelId,
    name: 'c',
    statusId,
    configuration: {},
    created: '',
    modified: '',
  };
}

function failure(fn: () => unknown): HooksterError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HooksterError) return error;
    throw error;
  }
  throw new Error('expected a HooksterError');
}

describe('newConversation', () => {
  const customer = integration('Direct', 'Customer');

  it('builds a conversation with a sequential id, a tokenId and the default profile', () => {
    const conversation = newConversation(
      { integrationId: customer.integrationId, binding: 'user-1' },
      customer,
      NOW,
      () => 0,
    );
    expect(conversation).toMatchObject({
      tenantId: customer.tenantId,
      hubId: customer.hubId,
      integrationId: customer.integrationId,
      binding: 'user-1',
      properties: { profile: { device: 'Direct', 'full name': 'Brave Otter' }, additional: {} },
      openedDateTime: '2026-12-04T20:00:00.000Z',
      lastEventId: 0,
    });
    expect(isGuid(conversation.conversationId)).toBe(true);
    expect(conversation.conversationId.endsWith(NOW.toString(16).padStart(12, '0'))).toBe(true);
    expect(conversation.tokenId).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(conversation.businessIntegrationId).toBeUndefined();
  });

  it('keeps the given profile and additional properties, filling only what is missing', () => {
    const properties = {
      profile: { 'full name': 'Zoë Tremblay', email: 'zoe@example.com' },
      additional: { plan: 'gold' },
    };
    const conversation = newConversation(
      { integrationId: customer.integrationId, binding: 'b', properties },
      customer,
      NOW,
    );
    expect(conversation.properties).toEqual({
      profile: { 'full name': 'Zoë Tremblay', email: 'zoe@example.com', device: 'Direct' },
      additional: { plan: 'gold' },
    });
    expect(properties.profile).not.toHaveProperty('device');
  });

  it('gives every conversation its own tokenId', () => {
    const request = { integrationId: customer.integrationId, binding: 'b' };
    expect(newConversation(request, customer, NOW).tokenId).not.toBe(
      newConversation(request, customer, NOW).tokenId,
    );
  });

  it('draws fun names from the random source', () => {
    expect(funName(() => 0)).toBe('Brave Otter');
    expect(funName(() => 0.999)).toBe('Bright Yak');
    expect(funName()).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  });
});

describe('establishingIntegration', () => {
  it('accepts an active or paused Customer Direct integration', () => {
    const customer = integration('Direct', 'Customer');
    expect(establishingIntegration(customer, customer.integrationId)).toBe(customer);
    const paused = integration('Direct', 'Customer', 3002);
    expect(establishingIntegration(paused, paused.integrationId)).toBe(paused);
  });

  it('answers 404 ENG006000 for an unknown integration', () => {
    const error = failure(() => establishingIntegration(undefined, 'x'));
    expect([error.status, error.errors[0]?.code]).toEqual([404, 6000]);
  });

  it('answers 400 for Agent, Bot and System integrations', () => {
    for (const other of [
      integration('Direct', 'Agent'),
      integration('Direct', 'Bot'),
      integration('System', 'System'),
    ]) {
      const error = failure(() => establishingIntegration(other, other.integrationId));
      expect([error.status, error.errors[0]?.code]).toEqual([400, 3003]);
      expect(error.errors[0]?.description).toContain('only a Customer Direct integration');
    }
  });

  it('answers 400 ENG006502 for a canceled integration', () => {
    const error = failure(() => establishingIntegration(integration('Direct', 'Customer', 3001), 'x'));
    expect([error.status, error.errors[0]?.code]).toEqual([400, 6502]);
  });
});
