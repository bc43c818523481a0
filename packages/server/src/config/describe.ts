// Renders the configuration schema for people: `hookster serve --help` and docs/configuration.md.

import { settings, type Setting } from './schema.js';

function defaultOf(setting: Setting): string {
  if (setting.defaultText !== undefined) return setting.defaultText;
  return setting.default === undefined || setting.default === '' ? 'unset' : setting.default;
}

/** The text of `hookster serve --help`. */
export function renderServeHelp(): string {
  const lines = [
    'Usage: hookster serve [options]',
    '',
    'Runs the Hookster engine: HTTP API, websocket gateway and webhook dispatcher (see --role).',
    'Precedence: defaults < --config file < HOOKSTER_* environment < command-line flags.',
    '',
    'Options:',
    '  --config <file>    JSON file with settings by key (e.g. {"port": 9000, "retryScheduleMs": "1m,5m"})',
    '  --help             Show this help',
    '',
    'Settings:',
  ];
  for (const setting of settings) {
    const flag = setting.flag ? `--${setting.flag} <value>` : '(environment only)';
    lines.push(`  ${flag}`);
    lines.push(`      env ${setting.env}, key ${setting.key}, default: ${defaultOf(setting)}`);
    lines.push(`      ${setting.description.replace(/`/g, '')}`);
  }
  return lines.join('\n') + '\n';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** docs/configuration.md, generated from the schema (scripts/gen-config-docs.mjs writes it). */
export function renderConfigurationMarkdown(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from packages/server/src/config/schema.ts by `node --import tsx scripts/gen-config-docs.mjs`;',
    '     do not edit by hand (a test fails when this file and the schema drift apart). -->',
    '',
    'Every setting lives in one typed schema. Values are resolved in this order, later wins:',
    '',
    '1. the default below,',
    '2. a JSON file given with `hookster serve --config <file>` (keys as in the **key** column),',
    '3. the `HOOKSTER_*` environment variable (an empty variable counts as unset),',
    '4. the command-line flag.',
    '',
    'An invalid value stops the engine at start with an error naming the variable, key or flag. An unknown',
    'key in the file is refused too; a `HOOKSTER_*` variable that is not a setting is ignored with a warning',
    'at start that names the nearest setting (`HOOKSTER_SMTP_ULR` → did you mean `HOOKSTER_SMTP_URL`?).',
    'Durations take the units `ms`, `s`, `m`, `h` (a bare number is milliseconds); sizes take',
    '`KiB`, `MiB`, `KB`, `MB` (a bare number is bytes). `hookster serve --help` prints the same list.',
    '',
    '| variable | flag | key | default | meaning |',
    '|---|---|---|---|---|',
  ];
  for (const s of settings) {
    const flag = s.flag ? `\`--${s.flag}\`` : '—';
    const def = s.default !== undefined && s.default !== '' ? `\`${s.default}\`` : defaultOf(s);
    lines.push(`| \`${s.env}\` | ${flag} | \`${s.key}\` | ${cell(def)} | ${cell(s.description)} |`);
  }
  lines.push(
    '',
    '## Example',
    '',
    '```sh',
    'HOOKSTER_PORT=9000 HOOKSTER_RETRY_SCHEDULE=30s,1m,5m hookster serve --role all',
    '```',
    '',
    '```json',
    '{ "databaseUrl": "sqlite:/var/lib/hookster/hookster.db", "egressAllow": ["10.0.0.0/8"] }',
    '```',
    '',
  );
  return lines.join('\n');
}
