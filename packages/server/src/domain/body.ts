// Pure: the exact bytes of a webhook body (DESIGN §3, hubster-wire §4.5/4.6), assembled from stored JSON.

import type { Guid } from './types.js';

/** Envelope fields of a delivery body (the store contract's BodyEnvelope is this type). */
export interface BodyEnvelopeFields {
  hubId: Guid;
  tenantId: Guid;
  integrationId: Guid;
  conversationId: Guid;
  conversationPropertiesJson: string;
  /** System integrations get `activities: [...]`, Direct/BYOI a single `activity`. */
  shape: 'activities' | 'activity';
  echo: boolean;
}

const NOT_ECHO = '"isEcho":false';
const ECHO = '"isEcho":true';

/**
 * Compact JSON `{"hubId","tenantId","integrationId","conversationId","conversationProperties",
 * "activities":[...]}` (System) or `...,"activity":{...}` (Direct), by concatenating the activities'
 * stored JSON so the bytes are those the submitter's activity was serialised to, once, in eventId order.
 */
export function buildBody(envelope: BodyEnvelopeFields, activitiesJson: string[]): string {
  const head =
    '{"hubId":' +
    JSON.stringify(envelope.hubId) +
    ',"tenantId":' +
    JSON.stringify(envelope.tenantId) +
    ',"integrationId":' +
    JSON.stringify(envelope.integrationId) +
    ',"conversationId":' +
    JSON.stringify(envelope.conversationId) +
    ',"conversationProperties":' +
    envelope.conversationPropertiesJson;
  const activities = envelope.echo ? activitiesJson.map(markEcho) : activitiesJson;
  if (envelope.shape === 'activity') {
    const only = activities[0];
    if (only === undefined || activities.length !== 1) {
      throw new Error(`a Direct body holds exactly one activity, got ${activities.length}`);
    }
    return head + ',"activity":' + only + '}';
  }
  if (activities.length === 0) throw new Error('a System body holds at least one activity');
  return head + ',"activities":[' + activities.join(',') + ']}';
}

// Why the first occurrence is the right one: the activity is serialised with `isEcho` at the top level
// before any nested object, and inside a JSON string every quote is escaped, so `"isEcho":false`
// cannot be matched inside a message text.
function markEcho(activityJson: string): string {
  const at = activityJson.indexOf(NOT_ECHO);
  if (at < 0) return activityJson;
  return activityJson.slice(0, at) + ECHO + activityJson.slice(at + NOT_ECHO.length);
}
