// The ordered list of SQLite migrations; a new migration is a new numbered module appended here.

import { sql as init } from './0001_init.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [{ version: 1, name: '0001_init', sql: init }];
