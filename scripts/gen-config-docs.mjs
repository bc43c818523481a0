// Writes docs/configuration.md from the configuration schema. Run: node --import tsx scripts/gen-config-docs.mjs
import { writeFileSync } from 'node:fs';
import { renderConfigurationMarkdown } from '../packages/server/src/config/describe.ts';

const target = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(target, renderConfigurationMarkdown());
process.stdout.write(`wrote ${target.pathname}\n`);
