// @hookster/sdk/client: the typed API client.
export { HooksterClient, HooksterApiError } from './client/client.js';
export type { HooksterClientOptions } from './client/client.js';
export type * from './client/types.js';
