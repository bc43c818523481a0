// GET /docs (a minimal HTML page) and GET /docs/openapi.json (the OpenAPI document); no authentication.

import type { FastifyInstance } from 'fastify';
import { openApiDocument } from './openapi.js';

function page(): string {
  const rows = Object.entries(openApiDocument.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops as Record<string, { summary?: string }>).map(
        ([method, op]) =>
          `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${path}</code></td><td>${op.summary ?? ''}</td></tr>`,
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hookster API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}td{padding:.2rem .6rem;border-bottom:1px solid #ddd}</style>
</head><body>
<h1>Hookster API</h1>
<p>Machine-readable document: <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI 3.1).
Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<table>
${rows}
</table>
</body></html>
`;
}

export function registerDocsRoutes(app: FastifyInstance): void {
  const html = page();
  const document = JSON.stringify(openApiDocument);
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  app.get('/docs/openapi.json', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(document),
  );
}
