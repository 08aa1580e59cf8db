#!/usr/bin/env node
// Demo origin behind orggate: an echo app. Every request is recorded and answered with what the
// origin actually received: method, the raw request target exactly as sent (req.url, never
// normalized), and all headers, with orggate's x-orggate-* headers highlighted.
//
//   node dev/origin.mjs --port 9100        (env ORIGIN_PORT)
//   GET    /_test/requests   recorded requests (JSON)
//   DELETE /_test/requests   clear them
//   WebSocket upgrade on any path: recorded like a request, then a JSON hello naming the
//     identity it received ({hello, org, path}), then every message echoed back
//   GET    /public/xsite-probe.html?target=URL   a page that tries, from whatever host served
//     it, a credentialed fetch, a WebSocket, an <img> and a form POST against TARGET's API, and
//     links to it (the browser test of sibling-host isolation serves it from globex's host)

import http from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

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

      if (pathOnly === '/public/xsite-probe.html' && req.method === 'GET') {
        const target = new URL(url, 'http://x').searchParams.get('target') ?? '';
        const body = probePage(target);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        return res.end(body);
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

  // WebSocket echo: the handshake is recorded like any request (with the headers orggate added).
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
  server.on('upgrade', (req, socket, head) => {
    const headers = { ...req.headers };
    const orggateHeaders = Object.fromEntries(
      Object.entries(headers).filter(([k]) => k.startsWith('x-orggate-')),
    );
    requests.push({
      id: ++seq, at: new Date().toISOString(), method: req.method, url: req.url, websocket: true,
      headers, rawHeaders: headerPairs(req), orggateHeaders, assertion: headers['x-orggate-assertion'] ?? null,
      bodyLength: 0, body: '', bodyTruncated: false,
    });
    if (requests.length > MAX_RECORDED) requests.shift();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({
        hello: headers['x-orggate-subject'] ?? null, org: headers['x-orggate-org-id'] ?? null, path: req.url,
      }));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
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
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections?.();
        setTimeout(() => { for (const s of sockets) s.destroy(); }, 200).unref();
      });
    },
  };
}

/**
 * The cross-site probe: run from a page on one org's host against another org's API (TARGET is
 * `http://acme.localhost:PORT`). Results land in `window.probe` and in #results.
 */
function probePage(target) {
  const t = JSON.stringify(target).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Cross-site probe</title></head>
<body>
<main>
<h1>Cross-site probe</h1>
<p><a id="nav" href="${esc(target)}/api/reports/1?probe=nav">Open the other organization's report</a></p>
<iframe name="sink" title="form target" style="width:1px;height:1px;border:0"></iframe>
<form id="post" method="post" target="sink" action="${esc(target)}/api/reports/1?probe=form">
<input type="hidden" name="x" value="1"></form>
<pre id="results"></pre>
</main>
<script>
const target = ${t};
const probe = { done: false };
window.probe = probe;
const show = () => { document.getElementById('results').textContent = JSON.stringify(probe, null, 1); };
async function run() {
  try {
    const r = await fetch(target + '/api/reports/1?probe=fetch', { credentials: 'include', mode: 'no-cors' });
    probe.fetch = { type: r.type };
  } catch (e) { probe.fetch = { error: String(e) }; }
  probe.img = await new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve('load');
    img.onerror = () => resolve('error');
    img.src = target + '/api/reports/1?probe=img';
  });
  probe.ws = await new Promise((resolve) => {
    const out = { messages: [] };
    let ws;
    try { ws = new WebSocket(target.replace(/^http/, 'ws') + '/api/reports/live?probe=ws'); } catch (e) { resolve({ error: String(e) }); return; }
    const timer = setTimeout(() => { try { ws.close(); } catch {} resolve({ ...out, timeout: true }); }, 5000);
    ws.onopen = () => { out.open = true; ws.send('secret?'); };
    ws.onmessage = (m) => { out.messages.push(String(m.data)); if (out.messages.length >= 2) { clearTimeout(timer); ws.close(); resolve(out); } };
    ws.onerror = () => { out.error = true; };
    ws.onclose = (ev) => { clearTimeout(timer); out.closeCode = ev.code; resolve(out); };
  });
  document.getElementById('post').submit();
  probe.form = 'submitted';
  probe.done = true;
  show();
}
run();
</script>
</body>
</html>`;
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
