// The ordered list of SQLite migrations; a new migration is a new numbered module appended here.

import { sql as init } from './0001_init.js';
import { sql as websocketWaiting } from './0002_websocket_waiting.js';
import { sql as emailWindows } from './0003_email_windows.js';
import { sql as fanouts } from './0004_fanouts.js';
import { sql as owedMail } from './0005_owed_mail.js';
import { sql as tokensClient } from './0006_tokens_client.js';
import { sql as failedDeliveries } from './0007_failed_deliveries.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: '0001_init', sql: init },
  { version: 2, name: '0002_websocket_waiting', sql: websocketWaiting },
  { version: 3, name: '0003_email_windows', sql: emailWindows },
  { version: 4, name: '0004_fanouts', sql: fanouts },
  { version: 5, name: '0005_owed_mail', sql: owedMail },
  { version: 6, name: '0006_tokens_client', sql: tokensClient },
  { version: 7, name: '0007_failed_deliveries', sql: failedDeliveries },
];
