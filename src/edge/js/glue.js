// Boundary helpers for src/edge/entry.rs: one call per direction instead of one per header.
// Header lists travel as one string: name \0 value \0 name \0 value ... (a header name or value
// can never contain NUL: the Fetch standard forbids it).

export function headerBlob(headers) {
  const parts = [];
  for (const [name, value] of headers) parts.push(name, value);
  return parts.join('\0');
}

function headersFromBlob(blob) {
  const h = new Headers();
  if (blob.length === 0) return h;
  const parts = blob.split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) h.append(parts[i], parts[i + 1]);
  return h;
}

export function respond(status, headerBlobText, body) {
  return new Response(body.length === 0 ? null : body, { status, headers: headersFromBlob(headerBlobText) });
}

// Sends the decided request (to an origin with fetch, or to the assets binding) with the incoming
// body streamed through, then applies orggate's response headers (set, except set-cookie: append).
export async function forward(target, url, method, headerBlobText, incoming, responseHeaderBlob) {
  const init = { method, headers: headersFromBlob(headerBlobText), redirect: 'manual' };
  if (method !== 'GET' && method !== 'HEAD') init.body = incoming.body;
  const res = target ? await target.fetch(url, init) : await fetch(url, init);
  if (responseHeaderBlob.length === 0) return res;
  // A WebSocket handshake the origin accepted: the 101 must carry the socket on to the client
  // (a Response built from res.body would drop it).
  const out = res.webSocket
    ? new Response(null, { status: 101, webSocket: res.webSocket, headers: res.headers })
    : new Response(res.body, res);
  const parts = responseHeaderBlob.split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) {
    if (parts[i] === 'set-cookie') out.headers.append(parts[i], parts[i + 1]);
    else out.headers.set(parts[i], parts[i + 1]);
  }
  return out;
}
