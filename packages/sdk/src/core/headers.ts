// Header names of a delivery and a case-insensitive reader over the header shapes of Node, Fetch and plain objects.

/** The headers Hookster (and Hubster) send with every webhook delivery. */
export const HEADER = {
  sourceSystem: 'x-source-system',
  hubId: 'x-hub-id',
  integrationId: 'x-integration-id',
  conversationId: 'x-conversation-id',
  publicKey: 'x-hubster-public-key',
  signature: 'x-hubster-signature',
  webhookId: 'webhook-id',
  webhookTimestamp: 'webhook-timestamp',
  webhookSignature: 'webhook-signature',
} as const;

/** Anything that carries request headers: a Fetch `Headers`, Node's `req.headers`, or a plain record. */
export type HeaderSource =
  { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The value of one header, case-insensitively. Repeated headers are joined with a space, which is how
 * several webhook-signature values combine; for the other headers a repeat is itself suspicious and
 * makes the value fail verification rather than silently picking one.
 */
export function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record[name];
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === name) {
        value = record[key];
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  // A hand-built record (Lambda-style events, tests) may hold a number or null: read as absent or text,
  // never a TypeError (which an adapter would turn into a 500 instead of a 403).
  if (Array.isArray(value)) return value.map(String).join(' ');
  return value === null ? undefined : String(value);
}
