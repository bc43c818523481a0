// Constant-time equality of two base64 strings, shared by both crypto paths.

/**
 * True when `given` is exactly `expected`. Why not `===`: string equality stops at the first differing
 * character, which would let a forger learn the signature byte by byte from response times. This loop
 * always visits every character of the expected value; only the length (public: 44) can end it early.
 * Comparing the canonical base64 text also refuses other spellings of the same bytes (base64url, non-zero
 * padding bits), exactly like the reference receiver's string comparison.
 */
export function sameBase64(expected: string, given: string): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return difference === 0;
}
