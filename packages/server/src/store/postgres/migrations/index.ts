// The ordered list of PostgreSQL migrations; append only, never edit a released one.

import { migration0001 } from './0001_init.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [migration0001];
