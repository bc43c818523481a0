// The shared Hubster signature vectors (through the SDK's loader) and their split into stored parts.
import { hubsterVectors as hubsterVectorFile, type HubsterVector } from '../../../sdk/test/vectors.js';

export type { HubsterVector };

export const hubsterVectors = hubsterVectorFile.vectors;

/** Splits a vector body into the envelope and each activity's compact JSON, as the store keeps them. */
export function splitVectorBody(vector: HubsterVector) {
  const parsed = JSON.parse(vector.body) as Record<string, unknown>;
  const activities = (parsed.activities as unknown[] | undefined) ?? [parsed.activity];
  return {
    envelope: {
      hubId: parsed.hubId as string,
      tenantId: parsed.tenantId as string,
      integrationId: parsed.integrationId as string,
      conversationId: parsed.conversationId as string,
      conversationPropertiesJson: JSON.stringify(parsed.conversationProperties),
      shape: vector.kind === 'System' ? ('activities' as const) : ('activity' as const),
      echo: false,
    },
    activitiesJson: activities.map((a) => JSON.stringify(a)),
  };
}
