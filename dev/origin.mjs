#!/usr/bin/env node
// Demo origin behind orggate: an echo app. Every request is recorded and answered with what the
// origin actually received: method, the raw request target exactly as sent (req.url, never
// normalized), and all headers, with orggate's x-orggate-* headers highlighted.
//
//   node dev/origin.mjs --port 9100        (env ORIGIN_PORT)
//   GET    /_test/requests   recorded requests (JSON)
//   DELETE /_test/requests   clear them

import http from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const MAX_RECORDED = 1000;
const MAX_BODY = 64 * 1024;

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function headerPairs(req) {
  const pairs = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  return pairs;
}

function renderHtml(rec) {
  const rows = rec.rawHeaders.map(([k, v]) => {
    const hl = k.toLowerCase().startsWith('x-orggate-');
    return `<tr${hl ? ' class="orggate"' : ''}><th scope="row">${esc(k)}</th><td><code>${esc(v)}</code></td></tr>`;
  }).join('\n');
  const orggate = Object.entries(rec.orggateHeaders);
  const assertion = rec.headers['x-orggate-assertion'];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo origin – ${esc(rec.method)} ${esc(rec.url)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
tr.orggate{background:#fff4c2}
code{word-break:break-all}
</style>
</head>
<body>
<main>
<h1>Demo origin</h1>
<p>This page is served by the demo origin behind orggate and shows exactly what it received.</p>
<dl>
<dt>Method</dt><dd><code data-testid="method">${esc(rec.method)}</code></dd>
<dt>Raw path and query</dt><dd><code data-testid="raw-url">${esc(rec.url)}</code></dd>
</dl>
<h2>orggate headers</h2>
${orggate.length
    ? `<ul>${orggate.map(([k, v]) => `<li><code>${esc(k)}</code>: <code data-header="${esc(k)}">${esc(v)}</code></li>`).join('')}</ul>`
    : '<p data-testid="no-orggate">No x-orggate-* headers were received.</p>'}
${assertion ? `<h2>Assertion</h2><p><code data-testid="assertion">${esc(assertion)}</code></p>` : ''}
<h2>All request headers</h2>
<table>
<thead><tr><th scope="col">Header</th><th scope="col">Value</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</main>
</body>
</html>`;
}

/**
 * Start the echo origin. Returns {url, port, requests, close()}.
 * `requests` is the live array of recorded requests.
 */
export async function startOrigin({ port = 0, host = '127.0.0.1' } = {}) {
  const requests = [];
  let seq = 0;

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    let truncated = false;
    req.on('data', (c) => {
      if (size < MAX_BODY) chunks.push(c.subarray(0, MAX_BODY - size));
      size += c.length;
      if (size > MAX_BODY) truncated = true;
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const url = req.url; // raw request target, exactly as received
      const pathOnly = url.split('?')[0];

      if (pathOnly === '/_test/requests') {
        if (req.method === 'GET') return json(res, 200, requests);
        if (req.method === 'DELETE') {
          requests.length = 0;
          return json(res, 200, { ok: true });
        }
        res.writeHead(405, { allow: 'GET, DELETE' });
        return res.end();
      }

      const headers = { ...req.headers };
      const orggateHeaders = Object.fromEntries(
        Object.entries(headers).filter(([k]) => k.startsWith('x-orggate-')),
      );
      const rec = {
        id: ++seq,
        at: new Date().toISOString(),
        method: req.method,
        url,
        httpVersion: req.httpVersion,
        headers,
        rawHeaders: headerPairs(req),
        orggateHeaders,
        assertion: headers['x-orggate-assertion'] ?? null,
        bodyLength: size,
        body: Buffer.concat(chunks).toString('utf8'),
        bodyTruncated: truncated,
      };
      requests.push(rec);
      if (requests.length > MAX_RECORDED) requests.shift();

      const accept = String(req.headers.accept ?? '');
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
        return res.end();
      }
      if (accept.includes('text/html')) {
        const body = renderHtml(rec);
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-length': Buffer.byteLength(body),
        });
        return res.end(body);
      }
      return json(res, 200, {
        method: rec.method,
        url: rec.url,
        headers: rec.headers,
        orggateHeaders,
        assertion: rec.assertion,
        bodyLength: rec.bodyLength,
      });
    });
  });

  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = server.address().port;
  let closed = false;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    requests,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections?.();
        setTimeout(() => { for (const s of sockets) s.destroy(); }, 200).unref();
      });
    },
  };
}

function json(res, status, value) {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function main() {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string' } },
  });
  const port = Number(values.port ?? process.env.ORIGIN_PORT ?? 9100);
  const origin = await startOrigin({ port, host: values.host ?? '127.0.0.1' });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await origin.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`origin ready ${origin.url}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
