// Who receives an activity: System filters, the Direct recipient rule, paused and canceled integrations.
import { describe, expect, it } from 'vitest';
import type { RoutingContext } from '../store/contract.js';
import { HooksterError } from './errors.js';
import { isGuid, sequentialGuid } from './ids.js';
import { businessTokenId, matchesFilters, nextEventId, planActivity, serializeActivity } from './routing.js';
import type { Conversation, InboundActivity, Integration, IntegrationConfiguration } from './types.js';

const HUB = '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278';
const TENANT = '4f3a9c12-d87b-4e5a-9b2c-01757696094e';
let counter = 0;

function integration(
  channelId: 'System' | 'Direct',
  configuration: IntegrationConfiguration,
  statusId = 3000,
): Integration {
  counter += 1;
  const integrationTypeId = channelId === 'System' ? 'System' : (configuration.integrationType ?? 'Customer');
  return {
    integrationId: `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`,
    hubId: HUB,
    tenantId: TENANT,
    integrationTypeId,
    channelId,
    name: `i${counter}`,
    statusId,
    configuration,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
  };
}

const system = (events: string[], statusId = 3000) =>
  integration('System', { webhookUrl: 'https://hooks.example.com/a', events }, statusId);
const direct = (
  integrationType: 'Customer' | 'Agent' | 'Bot',
  extra: IntegrationConfiguration = {},
  statusId = 3000,
) => integration('Direct', { integrationType, ...extra }, statusId);

function conversation(customer: Integration, extra: Partial<Conversation> = {}): Conversation {
  return {
    conversationId: '0b4d6f8a-1c3e-4b5d-8f21-017767496800',
    tenantId: TENANT,
    hubId: HUB,
    integrationId: customer.integrationId,
    binding: 'user-1',
    tokenId: 'q3VbT0pXmUe1rQ8yZk2h4A==',
    properties: { profile: { device: 'Direct', 'full name': 'Jordan Miller' }, additional: {} },
    openedDateTime: '2026-01-01T00:00:00.000Z',
    lastEventId: 0,
    ...extra,
  };
}

function context(integrations: Integration[], conv: Conversation, now = 1_700_000_000_000): RoutingContext {
  return {
    conversation: conv,
    hub: {
      hubId: HUB,
      tenantId: TENANT,
      name: 'h',
      description: 'd',
      statusId: 2000,
      created: '',
      modified: '',
    },
    tenant: {
      tenantId: TENANT,
      name: 't',
      accountHolderEmail: 'a@b.co',
      statusId: 1000,
      created: '',
      modified: '',
    },
    integrations,
    now,
  };
}

const ids = { interactionId: (eventId: number) => sequentialGuid(eventId) };
const text: InboundActivity = { type: 'message', message: { type: 'text', text: 'Hi' } };
const typing: InboundActivity = { type: 'event', event: { type: 'typing_on' } };

function thrown(fn: () => unknown): HooksterError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HooksterError) return error;
    throw error;
  }
  throw new Error('expected a HooksterError');
}

describe('System filters', () => {
  it.each([[['message']], [['message:customer']], [['message', 'message:customer']]])(
    'delivers a customer message once to a System integration filtering %j',
    (events) => {
      const customer = direct('Customer');
      const hook = system(events);
      const plan = planActivity(context([customer, hook], conversation(customer)), text, 'customer', ids);
      expect(plan.deliveries.filter((d) => d.integrationId === hook.integrationId)).toEqual([
        { integrationId: hook.integrationId, echo: false, transport: 'webhook' },
      ]);
    },
  );

  it('does not deliver a customer message to a System integration filtering [message:agent]', () => {
    const customer = direct('Customer');
    const hook = system(['message:agent']);
    const plan = planActivity(context([customer, hook], conversation(customer)), text, 'customer', ids);
    expect(plan.deliveries).toEqual([]);
  });

  it('gives each System integration of the hub its own delivery, in integration order', () => {
    const customer = direct('Customer');
    const hooks = [
      system(['message']),
      system(['message:customer']),
      system(['message', 'message:customer']),
      system(['message:agent']),
    ];
    const plan = planActivity(context([customer, ...hooks], conversation(customer)), text, 'customer', ids);
    expect(plan.deliveries.map((d) => d.integrationId)).toEqual(
      hooks.slice(0, 3).map((h) => h.integrationId),
    );
  });

  it('delivers an event activity to no System integration', () => {
    const customer = direct('Customer');
    const agent = direct('Agent');
    const hooks = [system(['message']), system(['message:customer'])];
    const plan = planActivity(
      context([customer, agent, ...hooks], conversation(customer)),
      typing,
      'customer',
      ids,
    );
    expect(plan.deliveries).toEqual([
      { integrationId: agent.integrationId, echo: false, transport: 'websocket' },
    ]);
  });

  it('plans deliveries for paused System integrations and skips canceled ones', () => {
    const customer = direct('Customer');
    const paused = system(['message'], 3002);
    const canceled = system(['message'], 3001);
    const plan = planActivity(
      context([customer, paused, canceled], conversation(customer)),
      text,
      'customer',
      ids,
    );
    expect(plan.deliveries.map((d) => d.integrationId)).toEqual([paused.integrationId]);
  });

  it('matches filters by type and trigger', () => {
    expect(matchesFilters(['message'], 'message', 'message:bot')).toBe(true);
    expect(matchesFilters(['message:bot'], 'message', 'message:bot')).toBe(true);
    expect(matchesFilters(['message:bot'], 'message', 'message:agent')).toBe(false);
    expect(matchesFilters(['message'], 'event', 'event:customer')).toBe(false);
    expect(matchesFilters(undefined, 'message', 'message:customer')).toBe(false);
  });
});

describe('recipient rule', () => {
  it('sends an agent reply to the customer integration and makes the agent the business integration', () => {
    const customer = direct('Customer', { webhookUrl: 'https://app.example.org/c' });
    const agent = direct('Agent');
    const reply: InboundActivity = { ...text, sender: { integrationId: agent.integrationId } };
    const plan = planActivity(context([customer, agent], conversation(customer)), reply, 'business', ids);
    expect(plan.businessIntegrationId).toBe(agent.integrationId);
    expect(plan.deliveries).toEqual([
      { integrationId: customer.integrationId, echo: false, transport: 'webhook' },
    ]);
    expect(plan.activity.eventTrigger).toBe('message:agent');
    expect(plan.activity.sender).toEqual({
      integrationId: agent.integrationId,
      integrationType: 'Agent',
      channelType: 'Direct',
      tokenId: businessTokenId(conversation(customer), agent.integrationId),
    });
    expect(plan.activity.recipient).toEqual({
      integrationId: customer.integrationId,
      integrationType: 'Customer',
      channelType: 'Direct',
      tokenId: 'q3VbT0pXmUe1rQ8yZk2h4A==',
    });
  });

  it('sends a customer message to the current business integration while it exists', () => {
    const customer = direct('Customer');
    const bot = direct('Bot');
    const agent = direct('Agent', { webhookUrl: 'https://agents.example.com' });
    const conv = conversation(customer, { businessIntegrationId: agent.integrationId });
    const plan = planActivity(context([customer, bot, agent], conv), text, 'customer', ids);
    expect(plan.deliveries).toEqual([
      { integrationId: agent.integrationId, echo: false, transport: 'webhook' },
    ]);
    expect(plan.activity.recipient?.integrationType).toBe('Agent');
    expect(plan.businessIntegrationId).toBeUndefined();
  });

  it('keeps a paused current business integration as the recipient (its delivery is held)', () => {
    const customer = direct('Customer');
    const bot = direct('Bot');
    const agent = direct('Agent', {}, 3002);
    const conv = conversation(customer, { businessIntegrationId: agent.integrationId });
    const plan = planActivity(context([customer, bot, agent], conv), text, 'customer', ids);
    expect(plan.deliveries.map((d) => d.integrationId)).toEqual([agent.integrationId]);
  });

  it('falls back to the first active Bot, then the first active Agent', () => {
    const customer = direct('Customer');
    const pausedBot = direct('Bot', {}, 3002);
    const agent1 = direct('Agent');
    const agent2 = direct('Agent');
    const bot = direct('Bot');
    const gone = '00000000-0000-4000-8000-ffffffffffff';
    const conv = conversation(customer, { businessIntegrationId: gone });
    let plan = planActivity(context([customer, pausedBot, agent1, agent2, bot], conv), text, 'customer', ids);
    expect(plan.deliveries.map((d) => d.integrationId)).toEqual([bot.integrationId]);
    plan = planActivity(context([customer, pausedBot, agent1, agent2], conv), text, 'customer', ids);
    expect(plan.deliveries.map((d) => d.integrationId)).toEqual([agent1.integrationId]);
  });

  it('routes a customer message with no business integration to nobody but System integrations', () => {
    const customer = direct('Customer');
    const hook = system(['message']);
    const plan = planActivity(context([customer, hook], conversation(customer)), text, 'customer', ids);
    expect(plan.activity.recipient).toBeUndefined();
    expect(plan.deliveries.map((d) => d.integrationId)).toEqual([hook.integrationId]);
    expect(plan.activityJson).not.toContain('recipient');
  });

  it('refuses a business submission without sender.integrationId (400 ENG005001)', () => {
    const customer = direct('Customer');
    const error = thrown(() =>
      planActivity(context([customer], conversation(customer)), text, 'business', ids),
    );
    expect(error.status).toBe(400);
    expect(error.errors[0]?.code).toBe(5001);
  });

  it('answers 404 ENG006000 for a sender that is not an integration of the hub', () => {
    const customer = direct('Customer');
    const reply = { ...text, sender: { integrationId: '00000000-0000-4000-8000-eeeeeeeeeeee' } };
    const error = thrown(() =>
      planActivity(context([customer], conversation(customer)), reply, 'business', ids),
    );
    expect(error.status).toBe(404);
    expect(error.errors[0]?.code).toBe(6000);
  });

  it('answers 400 ENG005025 for a business sender that is a Customer, a System or a canceled agent', () => {
    const customer = direct('Customer');
    const other = direct('Customer');
    const hook = system(['message']);
    const canceled = direct('Agent', {}, 3001);
    for (const sender of [other, hook, canceled]) {
      const reply = { ...text, sender: { integrationId: sender.integrationId } };
      const error = thrown(() =>
        planActivity(
          context([customer, other, hook, canceled], conversation(customer)),
          reply,
          'business',
          ids,
        ),
      );
      expect([error.status, error.errors[0]?.code]).toEqual([400, 5025]);
    }
  });

  it('refuses a customer submission naming another integration as sender', () => {
    const customer = direct('Customer');
    const agent = direct('Agent');
    const claim = { ...text, sender: { integrationId: agent.integrationId } };
    const error = thrown(() =>
      planActivity(context([customer, agent], conversation(customer)), claim, 'customer', ids),
    );
    expect([error.status, error.errors[0]?.code]).toEqual([400, 5025]);
    const own = { ...text, sender: { integrationId: customer.integrationId } };
    expect(
      planActivity(context([customer, agent], conversation(customer)), own, 'customer', ids).deliveries,
    ).toHaveLength(1);
  });

  it('refuses activities in a conversation whose customer integration is gone or canceled, or that is closed', () => {
    const customer = direct('Customer');
    const canceled = direct('Customer', {}, 3001);
    expect(
      thrown(() => planActivity(context([], conversation(customer)), text, 'customer', ids)).errors[0]?.code,
    ).toBe(6502);
    expect(
      thrown(() => planActivity(context([canceled], conversation(canceled)), text, 'customer', ids)).status,
    ).toBe(400);
    const closed = conversation(customer, { closedDateTime: '2026-01-02T00:00:00.000Z' });
    expect(
      thrown(() => planActivity(context([customer], closed), text, 'customer', ids)).errors[0]?.code,
    ).toBe(6502);
  });
});

describe('echo', () => {
  it('sends the echo copy only to the sender when its echo is on', () => {
    const customer = direct('Customer', { echo: true, webhookUrl: 'https://c.example.com' });
    const agent = direct('Agent', { echo: true });
    const hook = system(['message']);
    const plan = planActivity(
      context([customer, agent, hook], conversation(customer)),
      text,
      'customer',
      ids,
    );
    expect(plan.deliveries).toEqual([
      { integrationId: agent.integrationId, echo: false, transport: 'websocket' },
      { integrationId: customer.integrationId, echo: true, transport: 'webhook' },
      { integrationId: hook.integrationId, echo: false, transport: 'webhook' },
    ]);
    expect(plan.activity.isEcho).toBe(false);
  });

  it('echoes an agent reply back to the agent and never to System integrations', () => {
    const customer = direct('Customer');
    const agent = direct('Agent', { echo: true });
    const hook = system(['message:agent']);
    const reply = { ...text, sender: { integrationId: agent.integrationId } };
    const plan = planActivity(
      context([customer, agent, hook], conversation(customer)),
      reply,
      'business',
      ids,
    );
    expect(plan.deliveries.filter((d) => d.echo)).toEqual([
      { integrationId: agent.integrationId, echo: true, transport: 'websocket' },
    ]);
    expect(plan.deliveries.filter((d) => d.integrationId === hook.integrationId)).toHaveLength(1);
  });

  it('does not echo when echo is off or absent', () => {
    const customer = direct('Customer', { echo: false });
    const agent = direct('Agent');
    const plan = planActivity(context([customer, agent], conversation(customer)), text, 'customer', ids);
    expect(plan.deliveries.some((d) => d.echo)).toBe(false);
  });
});

describe('enrichment', () => {
  it('issues strictly increasing eventIds when the clock repeats or goes backwards', () => {
    const customer = direct('Customer');
    let conv = conversation(customer);
    const seen: number[] = [];
    for (const now of [1000, 1000, 999, 500, 1003, 1003]) {
      const plan = planActivity(context([customer], conv, now), text, 'customer', ids);
      seen.push(plan.activity.eventId);
      conv = { ...conv, lastEventId: plan.activity.eventId };
    }
    expect(seen).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    expect(nextEventId(conversation(customer, { lastEventId: 10 }), 5.7)).toBe(11);
    expect(nextEventId(conversation(customer, { lastEventId: 10 }), 20.9)).toBe(20);
  });

  it('gives messages an interactionId stamped with the eventId, and events none', () => {
    const customer = direct('Customer');
    const conv = conversation(customer);
    const plan = planActivity(context([customer], conv, 1_612_345_678_901), text, 'customer', ids);
    expect(isGuid(plan.activity.interactionId)).toBe(true);
    expect(plan.activity.interactionId?.endsWith((1_612_345_678_901).toString(16).padStart(12, '0'))).toBe(
      true,
    );
    const event = planActivity(context([customer], conv), typing, 'customer', ids);
    expect(event.activity.interactionId).toBeUndefined();
    expect(event.activity.eventTrigger).toBe('event:customer');
    expect(event.activity.event).toEqual({ type: 'typing_on' });
    expect(event.activity.message).toBeUndefined();
  });

  it('serialises the activity once in the wire key order with absent members omitted', () => {
    const customer = direct('Customer');
    const agent = direct('Agent');
    const inbound: InboundActivity = { ...text, externalId: 'crm-1' };
    const plan = planActivity(context([customer, agent], conversation(customer), 1234), inbound, 'customer', {
      interactionId: () => '6c1d2e3f-4a5b-4c6d-9e7f-0177674a9c35',
    });
    expect(Object.keys(JSON.parse(plan.activityJson) as object)).toEqual([
      'type',
      'eventTrigger',
      'eventId',
      'externalId',
      'isEcho',
      'interactionId',
      'flowProcess',
      'sender',
      'recipient',
      'message',
    ]);
    expect(
      plan.activityJson.startsWith(
        '{"type":"message","eventTrigger":"message:customer","eventId":1234,"externalId":"crm-1","isEcho":false,"interactionId":"6c1d2e3f-4a5b-4c6d-9e7f-0177674a9c35","flowProcess":"Default","sender":{"integrationId":',
      ),
    ).toBe(true);
    expect(JSON.parse(plan.activityJson)).toEqual(plan.activity);
    const event = planActivity(context([customer], conversation(customer), 5), typing, 'customer', ids);
    expect(event.activityJson).toMatch(
      /^\{"type":"event","eventTrigger":"event:customer","eventId":5,"isEcho":false,"flowProcess":"Default","sender":\{/,
    );
  });

  it('puts the envelope isEcho first even when externalId imitates it', () => {
    const customer = direct('Customer');
    const sneaky: InboundActivity = { ...text, externalId: '","isEcho":false,"x":"' };
    const plan = planActivity(context([customer], conversation(customer)), sneaky, 'customer', ids);
    const flipped = plan.activityJson.replace('"isEcho":false', '"isEcho":true');
    const parsed = JSON.parse(flipped) as { isEcho: boolean; externalId: string };
    expect(parsed.isEcho).toBe(true);
    expect(parsed.externalId).toBe(sneaky.externalId);
  });

  it('serialises the wire vector 2 activity byte for byte', () => {
    const activity = {
      type: 'message' as const,
      eventTrigger: 'message:agent',
      eventId: 1612350123456,
      externalId: 'crm-case-88121',
      isEcho: false,
      interactionId: '8e7d6c5b-4a39-4b2c-8d1e-0177678e6dc0',
      flowProcess: 'Default' as const,
      sender: {
        integrationId: 'e3b9',
        integrationType: 'Agent' as const,
        channelType: 'Direct' as const,
        tokenId: 't.e3b9',
      },
      recipient: {
        integrationId: '5f1e',
        integrationType: 'Customer' as const,
        channelType: 'Direct' as const,
        tokenId: 'Zq9X',
      },
      message: { type: 'text', text: 'Bonjour' },
    };
    // Input key order does not matter: the message comes first here.
    const { message, ...envelope } = activity;
    expect(serializeActivity({ message, ...envelope })).toBe(
      '{"type":"message","eventTrigger":"message:agent","eventId":1612350123456,"externalId":"crm-case-88121","isEcho":false,"interactionId":"8e7d6c5b-4a39-4b2c-8d1e-0177678e6dc0","flowProcess":"Default","sender":{"integrationId":"e3b9","integrationType":"Agent","channelType":"Direct","tokenId":"t.e3b9"},"recipient":{"integrationId":"5f1e","integrationType":"Customer","channelType":"Direct","tokenId":"Zq9X"},"message":{"type":"text","text":"Bonjour"}}',
    );
  });

  it('derives a stable, opaque business tokenId per conversation and integration', () => {
    const customer = direct('Customer');
    const conv = conversation(customer);
    const agent = '00000000-0000-4000-8000-000000000abc';
    const token = businessTokenId(conv, agent);
    expect(token).toBe(businessTokenId(conv, agent));
    expect(token).not.toBe(
      businessTokenId({ ...conv, conversationId: '1f2e3d4c-5b6a-4978-a6b5-017768252200' }, agent),
    );
    const [guid, suffix] = token.split('.');
    expect(isGuid(guid)).toBe(true);
    expect(suffix).toBe(agent);
  });
});
