// Shapes of Standard Webhooks verification input, shared by both crypto paths.

/** The three Standard Webhooks header values of a request. */
export interface StandardHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** Options of Standard Webhooks verification; `now` (ms since the epoch) is for tests and replays. */
export interface StandardVerifyOptions {
  toleranceSeconds?: number;
  now?: number;
}
