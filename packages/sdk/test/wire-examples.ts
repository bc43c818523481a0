// The payload examples of hubster-wire §8, written as typed literals: this file type-checks only if the SDK types fit them.
import type { DirectPayload, SystemPayload } from '../src/index.js';

/** hubster-wire §8, vector ex1 (system-webhook-customer-text). */
export const ex1: SystemPayload = {
  hubId: '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278',
  tenantId: '4f3a9c12-d87b-4e5a-9b2c-01757696094e',
  integrationId: 'c81f0a9e-3b5d-4a7c-9d12-0176d41e96ea',
  conversationId: '0b4d6f8a-1c3e-4b5d-8f21-017767496800',
  conversationProperties: {
    profile: {
      device: 'WebChat',
      'full name': 'Jordan Miller',
    },
    additional: {
      accountNumber: 'AC-10293',
    },
  },
  activities: [
    {
      type: 'message',
      eventTrigger: 'message:customer',
      eventId: 1612345678901,
      isEcho: false,
      interactionId: '6c1d2e3f-4a5b-4c6d-9e7f-0177674a9c35',
      flowProcess: 'Default',
      sender: {
        integrationId: '2a6b7c8d-9e0f-4a1b-8c3d-01757bcf8900',
        integrationType: 'Customer',
        channelType: 'WebChat',
        tokenId: 'q3VbT0pXmUe1rQ8yZk2h4A==',
      },
      recipient: {
        integrationId: 'e3b9d5f1-a2c8-4d6e-9f70-01757bd10fa0',
        integrationType: 'Agent',
        channelType: 'Direct',
        tokenId: 'a47c2e19-b3d5-4f8a-8c60-01776749687b.e3b9d5f1-a2c8-4d6e-9f70-01757bd10fa0',
      },
      message: {
        type: 'text',
        text: 'Hi, I need help with my order #4471.',
      },
    },
  ],
};

/** hubster-wire §8, vector ex2 (direct-customer-webhook-agent-reply-utf8). */
export const ex2: DirectPayload = {
  hubId: '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278',
  tenantId: '4f3a9c12-d87b-4e5a-9b2c-01757696094e',
  integrationId: '5f1e2d3c-4b5a-4968-a7b6-01757bd29640',
  conversationId: '3e5a7c9b-1d2f-4e6a-8b4c-0177678c8b80',
  conversationProperties: {
    profile: {
      device: 'Direct',
      'full name': 'Zoë Tremblay',
      email: 'zoe@example.com',
    },
    additional: {},
  },
  activity: {
    type: 'message',
    eventTrigger: 'message:agent',
    eventId: 1612350123456,
    externalId: 'crm-case-88121',
    isEcho: false,
    interactionId: '8e7d6c5b-4a39-4b2c-8d1e-0177678e6dc0',
    flowProcess: 'Default',
    sender: {
      integrationId: 'e3b9d5f1-a2c8-4d6e-9f70-01757bd10fa0',
      integrationType: 'Agent',
      channelType: 'Direct',
      tokenId: 'd2c3b4a5-f6e7-4d8c-9b0a-0177678c8bb2.e3b9d5f1-a2c8-4d6e-9f70-01757bd10fa0',
    },
    recipient: {
      integrationId: '5f1e2d3c-4b5a-4968-a7b6-01757bd29640',
      integrationType: 'Customer',
      channelType: 'Direct',
      tokenId: 'Zq9Xr2c1T0uN5wJ4bY8kLg==',
    },
    message: {
      type: 'text',
      text: 'Bonjour Zoë ☕ — votre commande est en route. Voulez-vous le suivi ?',
      actions: [
        {
          type: 'reply',
          title: 'Oui',
          payload: 'TRACK_YES',
        },
        {
          type: 'reply',
          title: 'Non merci',
          payload: 'TRACK_NO',
        },
        {
          type: 'link',
          title: 'Suivre le colis',
          url: 'https://shop.example.com/track/4471',
        },
      ],
    },
  },
};

/** hubster-wire §8, vector ex3 (system-webhook-two-bot-activities). */
export const ex3: SystemPayload = {
  hubId: '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278',
  tenantId: '4f3a9c12-d87b-4e5a-9b2c-01757696094e',
  integrationId: 'd4e5f6a7-b8c9-4d0e-9f1a-0176d4535600',
  conversationId: '1f2e3d4c-5b6a-4978-a6b5-017768252200',
  conversationProperties: {
    profile: {
      device: 'WebChat',
      'full name': 'Sam Okafor',
    },
    additional: {},
  },
  activities: [
    {
      type: 'message',
      eventTrigger: 'message:bot',
      eventId: 1612360042000,
      isEcho: false,
      interactionId: '4a5b6c7d-8e9f-4a0b-8c1d-01776825c610',
      flowProcess: 'Default',
      sender: {
        integrationId: '91a2b3c4-d5e6-4f7a-8b9c-01757bd41ce0',
        integrationType: 'Bot',
        channelType: 'Bot',
        tokenId: 'b7a6c5d4-e3f2-4a1b-9c8d-0177682522c8.91a2b3c4-d5e6-4f7a-8b9c-01757bd41ce0',
      },
      recipient: {
        integrationId: '2a6b7c8d-9e0f-4a1b-8c3d-01757bcf8900',
        integrationType: 'Customer',
        channelType: 'WebChat',
        tokenId: 'M4xKp7Vb2QeR9tY1uI0oPw==',
      },
      message: {
        type: 'text',
        text: 'Here are our most popular models:',
      },
    },
    {
      type: 'message',
      eventTrigger: 'message:bot',
      eventId: 1612360042001,
      isEcho: false,
      interactionId: '5b6c7d8e-9f0a-4b1c-9d2e-01776825c611',
      flowProcess: 'Default',
      sender: {
        integrationId: '91a2b3c4-d5e6-4f7a-8b9c-01757bd41ce0',
        integrationType: 'Bot',
        channelType: 'Bot',
        tokenId: 'b7a6c5d4-e3f2-4a1b-9c8d-0177682522c8.91a2b3c4-d5e6-4f7a-8b9c-01757bd41ce0',
      },
      recipient: {
        integrationId: '2a6b7c8d-9e0f-4a1b-8c3d-01757bcf8900',
        integrationType: 'Customer',
        channelType: 'WebChat',
        tokenId: 'M4xKp7Vb2QeR9tY1uI0oPw==',
      },
      message: {
        type: 'carousel',
        items: [
          {
            title: 'Victorious',
            content: 'European style',
            urlType: 'image',
            url: 'https://cdn.example.com/cars/victorious.png',
            actions: [
              {
                type: 'reply',
                title: 'Select',
                payload: 'Victorious',
              },
              {
                type: 'link',
                title: 'More Info',
                url: 'https://example.com/victorious',
              },
            ],
          },
          {
            title: 'Green Dragon',
            content: 'Compact hybrid',
            urlType: 'image',
            url: 'https://cdn.example.com/cars/green-dragon.png',
            actions: [
              {
                type: 'reply',
                title: 'Select',
                payload: 'Green Dragon',
              },
            ],
          },
        ],
      },
    },
  ],
};
