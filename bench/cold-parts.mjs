#!/usr/bin/env node
// Where a fresh isolate's first request goes: for each contestant, a fresh workerd per sample,
// then one first request of a given kind, timed from outside (workerd's clock does not advance
// inside a request). Kinds add one stage each:
//   404       settings only (unknown org)
//   401       + org alias and org document (no token)
//   200       + JWKS fetch, key import, signature, forward
//   200-warm  the same request on an isolate that already served one request of each kind
//             above except with another token (the first-request cost left: verify + import)
//   node bench/cold-parts.mjs [samples]
import { Miniflare } from 'miniflare';
import { startOrigin, benchKv, contestantOptions, seedKv, request } from './lib/stack.mjs';
import { mint } from './lib/tokens.mjs';
import { median, min, max } from './lib/stats.mjs';

const SAMPLES = Number(process.argv[2] ?? 5);
const origin = await startOrigin();
const kv = benchKv({ origin });
const kinds = {
  404: (port) => request(port, { host: 'nope.localhost' }),
  401: (port) => request(port, {}),
  200: (port) => request(port, { token: mint() }),
};
const rows = [];
try {
  for (const kind of Object.keys(kinds)) {
    for (const c of ['orggate', 'peer']) {
      const xs = [];
      for (let i = 0; i < SAMPLES; i++) {
        const mf = new Miniflare(contestantOptions(c));
        const url = await mf.ready;
        await seedKv(await mf.getKVNamespace('ORGS'), kv);
        const t0 = performance.now();
        const r = await kinds[kind](Number(url.port));
        xs.push(performance.now() - t0);
        if (String(r.status) !== kind) console.error(`${c} ${kind}: got ${r.status}`);
        await mf.dispose();
      }
      rows.push({ kind, c, median: median(xs), min: min(xs), max: max(xs) });
    }
  }
} finally {
  await origin.close();
}
console.log('| first request on a fresh isolate | contestant | ms median (min-max) |');
console.log('|---|---|---:|');
for (const r of rows) console.log(`| ${r.kind} | ${r.c} | ${r.median.toFixed(1)} (${r.min.toFixed(1)}-${r.max.toFixed(1)}) |`);
