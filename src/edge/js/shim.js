// orggate's Worker entry (worker-build `CUSTOM_SHIM`): a plain module Worker around the Wasm core.
//
// Every request is ONE synchronous call into Wasm (`decide`) with the method, the URL and the
// headers the core reads, as one string (src/wire.rs). With warm caches the answer is the
// decision. When the core needs a signature checked, this checks it with WebCrypto and hands the
// answer back (`resume`, synchronous); for any other I/O it awaits `drive`, the Rust driver. The
// decision is applied here: respond, or forward the incoming request (body streamed through
// untouched) with the header edits the core listed.
import { verifySignature } from "./verify.mjs";
import * as imports from "./index_bg.js";
export * from "./index_bg.js";
import wasmModule from "./index.wasm";
$SNIPPET_JS_IMPORTS

const instance = new WebAssembly.Instance(wasmModule, {
  "./index_bg.js": imports,
  $SNIPPET_WASM_IMPORTS
});
imports.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start?.();

// The headers the core reads (src/wire.rs FIXED_HEADERS), plus the ones the tenant configures.
const FIXED = ["authorization", "cookie", "accept", "origin", "sec-fetch-site", "sec-fetch-mode",
  "sec-fetch-dest", "upgrade", "cf-ray", "dpop", "content-type", "access-control-request-method",
  "access-control-request-headers", "if-match"];
let extras = [];

function pack(request, body) {
  const h = request.headers;
  const parts = [extras.join(","), request.method, request.url];
  if (body !== undefined) parts.push(":body", body);
  for (const name of FIXED) {
    const v = h.get(name);
    if (v !== null) parts.push(name, v);
  }
  for (const name of extras) {
    const v = h.get(name);
    if (v !== null) parts.push(name, v);
  }
  return parts.join("\0");
}

/** The first `n` NUL-separated fields of `s`, and the rest. */
function fields(s, n) {
  const out = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const j = s.indexOf("\0", at);
    if (j < 0) { out.push(s.slice(at)); return [out, ""]; }
    out.push(s.slice(at, j));
    at = j + 1;
  }
  return [out, s.slice(at)];
}

function list(field) {
  return field === "" ? [] : field.split("\x01");
}

/** Header pairs as an array for a Response init (repeated names, e.g. set-cookie, kept). */
function pairs(field) {
  const l = list(field);
  const out = [];
  for (let i = 0; i + 1 < l.length; i += 2) out.push([l[i], l[i + 1]]);
  return out;
}

// The strip lists are the tenant's and change only with its config: parse them once.
let stripKey = null;
let stripPrefixes = [];
let stripNames = new Set();
function stripLists(prefixes, names) {
  const key = `${prefixes}\0${names}`;
  if (key !== stripKey) {
    stripKey = key;
    stripPrefixes = list(prefixes);
    stripNames = new Set(list(names));
  }
}

function pairsInto(headers, field, append) {
  const l = list(field);
  for (let i = 0; i + 1 < l.length; i += 2) {
    // Set-Cookie and Vary add to what the origin sent; everything else replaces it.
    if (append || l[i] === "set-cookie" || l[i] === "vary") headers.append(l[i], l[i + 1]);
    else headers.set(l[i], l[i + 1]);
  }
}

function setExtras(field) {
  const next = field === "" ? [] : field.split(",");
  if (next.join(",") !== extras.join(",")) extras = next;
}

async function act(out, request, env) {
  switch (out[0]) {
    case "R": {
      const [[, status, ex, log, headers], body] = fields(out, 5);
      setExtras(ex);
      console.log(log);
      return new Response(body === "" ? null : body, { status: Number(status), headers: pairs(headers) });
    }
    case "F": {
      const [[, upstream, ex, log, url, prefixes, names, set, respHeaders, noClient]] = fields(out, 10);
      setExtras(ex);
      console.log(log);
      let h;
      if (noClient === "1") {
        h = new Headers();
      } else {
        h = new Headers(request.headers);
        stripLists(prefixes, names);
        for (const name of [...h.keys()]) {
          const n = name.includes("_") ? name.replaceAll("_", "-") : name;
          if (stripNames.has(n) || stripPrefixes.some((p) => n.startsWith(p))) h.delete(name);
        }
      }
      pairsInto(h, set, false);
      const init = { method: request.method, headers: h, redirect: "manual" };
      if (request.method !== "GET" && request.method !== "HEAD") init.body = request.body;
      const res = upstream === "A" ? await env.ASSETS.fetch(url, init) : await fetch(url, init);
      if (respHeaders === "") return res;
      // A WebSocket handshake the origin accepted: the 101 must carry the socket on.
      const r = res.webSocket
        ? new Response(null, { status: 101, webSocket: res.webSocket, headers: res.headers })
        : new Response(res.body, res);
      pairsInto(r.headers, respHeaders, false);
      return r;
    }
    default:
      return new Response('{"error":"internal"}', { status: 500 });
  }
}

export default {
  async fetch(request, env, ctx) {
    // orggate's own POST/PATCH endpoints (back-channel logout, the admin pages and API) read
    // their small body;
    // every other body streams to the origin untouched.
    let body;
    if ((request.method === "POST" || request.method === "PATCH") &&
        new URL(request.url).pathname.includes("/_orggate/")) {
      // Only a declared, small length is read (a chunked body of unknown size is not).
      const len = request.headers.get("content-length");
      if (len !== null && Number(len) <= 65536) {
        const text = await request.text();
        if (text.length <= 65536 && !text.includes("\0")) body = text;
      }
    }
    let out = imports.decide(pack(request, body), env);
    // Bounded: the core itself stops after a few dozen round trips.
    for (let round = 0; round < 64; round++) {
      const kind = out[0];
      if (kind === "V") {
        const [[, handle, alg, keyId, jwk, signature], input] = fields(out, 6);
        const answer = await verifySignature(alg, keyId, jwk, signature, input);
        out = imports.resume(Number(handle), answer, env);
      } else if (kind === "N") {
        out = await imports.drive(Number(out.slice(2)), env, ctx);
      } else if (kind === "H") {
        setExtras(out.slice(2));
        out = imports.decide(pack(request, body), env);
      } else {
        break;
      }
    }
    return act(out, request, env);
  },
};
