// Loads the shared Hubster signature vectors (../shared/spec/vectors beside the repository root).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export interface HubsterVector {
  id: string;
  kind: 'System' | 'Direct';
  publicSigningKey: string;
  privateSigningKey: string;
  headers: Record<string, string>;
  body: string;
  bodyByteLength: number;
  expectedSignature: string;
}

export const hubsterVectors = (
  JSON.parse(
    readFileSync(path.join(repoRoot, '..', 'shared', 'spec', 'vectors', 'hubster-signature.json'), 'utf8'),
  ) as { vectors: HubsterVector[] }
).vectors;

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
