// Bench-only wrapper: runs a Worker's fetch handler over N tokens inside ONE request, so the
// authorizer's own cost can be timed from outside without the HTTP loop (workerd's clock does not
// advance while a request runs: time it from node, minus an empty run, divided by N).
//
//   POST /__bench/load              body: tokens, one a line (kept in module scope)
//   GET  /__bench/run?from=&n=&host=&path=&origin=&same=0|1
//        calls the wrapped handler n times, one token each (tokens[from..from+n), or tokens[from]
//        n times with same=1), and answers {n, statuses}. Forwards to `origin` are answered by a
//        stub Response inside the isolate; every other fetch (the JWKS) goes out for real.
//        &quiet=1 turns console.log into a no-op for the run (what logging costs).
const realFetch = globalThis.fetch;
let stubOrigin = null;
globalThis.fetch = function benchFetch(input, init) {
  const url = typeof input === 'string' ? input : input.url;
  if (stubOrigin && url.startsWith(stubOrigin) && !url.endsWith('/jwks.json')) {
    return Promise.resolve(new Response('ok', { status: 200 }));
  }
  return realFetch(input, init);
};

export function loopWorker(inner) {
  let tokens = [];
  return {
    async fetch(request, env, ctx) {
      const url = new URL(request.url);
      if (url.pathname === '/__bench/load') {
        tokens = (await request.text()).trim().split('\n');
        return new Response(String(tokens.length));
      }
      if (url.pathname === '/__bench/run') {
        const q = url.searchParams;
        const from = Number(q.get('from') ?? 0);
        const n = Number(q.get('n') ?? 0);
        const same = q.get('same') === '1';
        const target = `http://${q.get('host')}${q.get('path')}`;
        stubOrigin = q.get('origin');
        const consoleLog = console.log;
        if (q.get('quiet') === '1') console.log = () => {};
        const statuses = {};
        try {
          for (let i = 0; i < n; i++) {
            const token = tokens[(from + (same ? 0 : i)) % tokens.length];
            const res = await inner(new Request(target, { headers: { authorization: `Bearer ${token}` } }), env, ctx);
            await res.arrayBuffer();
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          }
        } finally {
          console.log = consoleLog;
        }
        return Response.json({ n, statuses });
      }
      return inner(request, env, ctx);
    },
  };
}
