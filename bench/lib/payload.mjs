// What the load generator sends: the same tagged ~1 KiB text message for every system under test.
// The tag rides in the activity's opaque `externalId` (kept by every sender) and tells the receiver
// which phase and sequence number a delivered activity is, and when it was submitted.
import { createHmac, randomUUID } from 'node:crypto';

// The fixed integration of the raw-ceiling bodies (and of the BullMQ baseline): the sample key pair of
// the Hubster docs, as in ../shared/spec/vectors.
export const CEILING_INTEGRATION = Object.freeze({
  hubId: '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278',
  tenantId: '4f3a9c12-d87b-4e5a-9b2c-01757696094e',
  integrationId: 'c81f0a9e-3b5d-4a7c-9d12-0176d41e96ea',
  publicSigningKey: '3EF951F619CD4F5E820C73622C0F1A3C',
  privateSigningKey: 'FA96D15568654A4482772E00BA941BCB',
});
const CONVERSATION_ID = '0b4d6f8a-1c3e-4b5d-8f21-017767496800';
const CUSTOMER_INTEGRATION_ID = '2a6b7c8d-9e0f-4a1b-8c3d-01757bcf8900';
const CONVERSATION_PROPERTIES = {
  profile: { device: 'WebChat', 'full name': 'Jordan Miller' },
  additional: { accountNumber: 'AC-10293' },
};

// bench:<phase>:<seq>:<submit time in ms>
export function benchTag(phase, seq, sentAt) {
  return `bench:${phase}:${seq}:${sentAt.toFixed(3)}`;
}
export const BENCH_TAG_RE = /"externalId":"bench:([A-Za-z0-9_-]+):(\d+):(\d+(?:\.\d+)?)"/g;

export function hubsterSignature(body, privateSigningKey) {
  return createHmac('sha256', Buffer.from(privateSigningKey, 'utf8')).update(body).digest('base64');
}

// The inbound activity a customer integration submits to Hookster.
export function engineActivity(tag, text) {
  return { type: 'message', externalId: tag, message: { type: 'text', text } };
}

// The BullMQ baseline's submit shape.
export function baselineSubmission(tag, text) {
  return {
    conversationId: CONVERSATION_ID,
    activity: {
      type: 'message',
      externalId: tag,
      sender: { integrationId: CUSTOMER_INTEGRATION_ID },
      message: { type: 'text', text },
    },
  };
}

// The raw ceiling's body: a System delivery of one enriched activity, built and signed by the load generator.
export function ceilingDelivery(tag, text) {
  const i = CEILING_INTEGRATION;
  const body = JSON.stringify({
    hubId: i.hubId,
    tenantId: i.tenantId,
    integrationId: i.integrationId,
    conversationId: CONVERSATION_ID,
    conversationProperties: CONVERSATION_PROPERTIES,
    activities: [
      {
        type: 'message',
        eventTrigger: 'message:customer',
        eventId: Date.now(),
        externalId: tag,
        isEcho: false,
        interactionId: randomUUID(),
        flowProcess: 'Default',
        sender: {
          integrationId: CUSTOMER_INTEGRATION_ID,
          integrationType: 'Customer',
          channelType: 'Direct',
        },
        message: { type: 'text', text },
      },
    ],
  });
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'x-source-system': 'engine.hubster.io',
    'x-hub-id': i.hubId,
    'x-integration-id': i.integrationId,
    'x-conversation-id': CONVERSATION_ID,
    'x-hubster-public-key': i.publicSigningKey,
    'x-hubster-signature': hubsterSignature(body, i.privateSigningKey),
  };
  return { body, headers };
}

// Message text that makes a one-activity delivered body about `targetBytes` long.
export function paddingText(targetBytes) {
  const probe = ceilingDelivery(benchTag('warmup', 99999, Date.now()), '').body;
  const words = 'Hi, I need help with my order #4471, it has not arrived yet. ';
  let text = '';
  while (Buffer.byteLength(probe) + text.length < targetBytes) text += words;
  return text.slice(0, Math.max(0, targetBytes - Buffer.byteLength(probe)));
}
