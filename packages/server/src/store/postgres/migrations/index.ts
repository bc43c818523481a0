// The ordered list of PostgreSQL migrations; append only, never edit a released one.

import { migration0001 } from './0001_init.js';
import { migration0002 } from './0002_held_pushes.js';
import { migration0003 } from './0003_websocket_waiting.js';
import { migration0004 } from './0004_email_windows.js';
import { migration0005 } from './0005_owed_mail.js';
import { migration0006 } from './0006_tokens_client.js';
import { migration0007 } from './0007_failed_by_seq.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
];
