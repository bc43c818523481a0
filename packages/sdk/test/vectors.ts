// Loads the shared signature vectors from ../shared/spec/vectors beside the repository root.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const specDir = path.resolve(repoRoot, '..', 'shared', 'spec');

export interface HubsterVector {
  id: string;
  name: string;
  kind: 'System' | 'Direct';
  publicSigningKey: string;
  privateSigningKey: string;
  headers: Record<string, string>;
  body: string;
  bodyByteLength: number;
  expectedSignature: string;
  negativeSignatures: Record<string, string>;
}

export interface HubsterVectors {
  micro: { privateSigningKey: string; body: string; signature: string }[];
  vectors: HubsterVector[];
}

export interface StandardVectors {
  secret: string;
  keyHex: string;
  cases: { id: string; timestamp: string; bodyHex: string; expected: string }[];
  negatives: {
    signatures: string[];
    multiSignaturePositive: string;
    timestampToleranceSeconds: number;
    badTimestamps: string[];
    badSecrets: string[];
  };
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(specDir, 'vectors', name), 'utf8')) as T;
}

export const hubsterVectors = readJson<HubsterVectors>('hubster-signature.json');
export const standardVectors = readJson<StandardVectors>('standard-webhooks.json');
