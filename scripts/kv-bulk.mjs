// Builds a `wrangler kv bulk put` file from dev/kv/*.json: settings, org:{id}, and the aliases.
// Usage: node scripts/kv-bulk.mjs OUT.json
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

export function demoKv(dir = 'dev/kv') {
  const entries = {};
  entries.settings = readFileSync(`${dir}/settings.json`, 'utf8');
  for (const f of readdirSync(dir).filter((f) => f.startsWith('org_'))) {
    const text = readFileSync(`${dir}/${f}`, 'utf8');
    entries[`org:${JSON.parse(text).org_id}`] = text;
  }
  for (const [k, v] of Object.entries(JSON.parse(readFileSync(`${dir}/aliases.json`, 'utf8')))) entries[k] = v;
  return entries;
}

if (process.argv[1] && process.argv[1].endsWith('kv-bulk.mjs')) {
  const out = process.argv[2] ?? '.wrangler/kv-bulk.json';
  const bulk = Object.entries(demoKv()).map(([key, value]) => ({ key, value }));
  writeFileSync(out, JSON.stringify(bulk));
  console.log(`wrote ${bulk.length} KV entries to ${out}`);
}
