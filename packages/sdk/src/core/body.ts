// Body and key normalisation shared by the node:crypto and WebCrypto paths: bytes in, bytes out, no UTF-8 validation.

/** A webhook body as received: the raw text or the raw bytes (Buffer is a Uint8Array). */
export type WebhookBody = string | Uint8Array;

const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of a string; bytes are returned as they are (never decoded, so invalid UTF-8 survives). */
export function bodyBytes(body: WebhookBody): Uint8Array {
  return typeof body === 'string' ? utf8Encoder.encode(body) : body;
}

/** UTF-8 bytes of a text value (a key, an id, a timestamp). */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}
