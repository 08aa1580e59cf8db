// Raw HTTP to 127.0.0.1:PORT with an arbitrary Host header (node's fetch forbids setting Host,
// and `*.localhost` does not resolve through node's resolver). Never follows redirects; the
// path is sent exactly as given (no normalization), so `/a/%2e%2e/b` reaches the server raw.
import http from 'node:http';

/**
 * @param {object} o
 * @param {number} o.port
 * @param {string} [o.host] Host header, e.g. 'acme.localhost:8787' (default 127.0.0.1:PORT)
 * @param {string} [o.path] raw request target, default '/'
 * @param {string} [o.method]
 * @param {Record<string,string|string[]>} [o.headers]
 * @param {string|Buffer} [o.body]
 * @param {number} [o.timeoutMs]
 * @returns {Promise<{status:number, headers:Record<string,string|string[]>, rawHeaders:string[], setCookies:string[], body:string, json():any}>}
 */
export function request({
  port, host, path = '/', method = 'GET', headers = {}, body, timeoutMs = 10_000, address = '127.0.0.1',
}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'host')) h.host = host ?? `${address}:${port}`;
    if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length')) {
      h['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({
      host: address, port, method, path, headers: h, agent: false, timeout: timeoutMs,
      // keep the path byte-for-byte; node only rejects characters that are illegal on the wire
      insecureHTTPParser: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const sc = res.headers['set-cookie'] ?? [];
        resolve({
          status: res.statusCode,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          setCookies: Array.isArray(sc) ? sc : [sc],
          body: text,
          json() { return JSON.parse(text); },
        });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms: ${method} ${path}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Convenience: GET with a Host header. */
export function get(port, path, { host, headers, timeoutMs } = {}) {
  return request({ port, host, path, headers, timeoutMs });
}

/** Turn Set-Cookie lines into a Cookie header value (name=value pairs only). */
export function cookieHeader(setCookies) {
  return setCookies.map((c) => c.split(';')[0]).filter((p) => p.includes('=') && !p.endsWith('=')).join('; ');
}
