// One whole local deployment for an e2e test: the demo OpenID Provider, the echo origin and the
// built Worker (miniflare/workerd), all on 127.0.0.1 with OS-assigned ports.
//
// Order matters: the OP registers redirect URIs for the Worker's port at start-up, and the KV
// settings name the OP's issuer and the origin's URL. So: origin, then the Worker with an empty
// KV (its port is known once miniflare is ready), then the OP for that port, then the KV seed.
// The Worker reads KV per request, so seeding after `ready` but before the first request is safe.
import { startOp } from '../../../dev/op.mjs';
import { startOrigin } from '../../../dev/origin.mjs';
import { request } from './http.mjs';
import { startWorker, testKv } from './worker.mjs';

/**
 * @param {object} [o]
 * @param {number} [o.accessTtl] OP access-token lifetime in seconds
 * @param {(entries: Record<string,string>) => void} [o.editKv] change the demo KV before seeding
 * @param {boolean} [o.quiet] silence the OP (default true)
 * @param {Record<string,string>} [o.bindings] more Worker bindings (vars)
 * @returns {Promise<{op, origin, worker, port:number, issuer:string, kvEntries:Record<string,string>,
 *   send:(o:object)=>Promise<any>, originRequests:()=>any[], clearOrigin:()=>Promise<void>, close:()=>Promise<void>}>}
 */
export async function startStack({ accessTtl, editKv, quiet = true, bindings } = {}) {
  const started = [];
  const close = async () => {
    // Reverse start order; keep going if one of them fails to stop.
    const errors = [];
    for (const s of started.reverse()) {
      try {
        await s.close();
      } catch (err) {
        errors.push(err);
      }
    }
    started.length = 0;
    if (errors.length) throw new AggregateError(errors, 'stack did not stop cleanly');
  };
  try {
    const origin = await startOrigin({ port: 0 });
    started.push(origin);
    const worker = await startWorker({ kv: {}, bindings });
    started.push(worker);
    const op = await startOp({
      port: 0, workerPorts: [worker.port], accessTtl, quiet,
    });
    started.push(op);
    const kvEntries = testKv({ issuer: op.issuer, origin: origin.url, edit: editKv });
    for (const [k, v] of Object.entries(kvEntries)) await worker.kv.put(k, v);

    return {
      op,
      origin,
      worker,
      port: worker.port,
      issuer: op.issuer,
      kvEntries,
      /** Raw request to the Worker; `host` is a bare name like 'acme.localhost' (port appended). */
      send({ host, ...rest }) {
        return request({ port: worker.port, host: host && !host.includes(':') ? `${host}:${worker.port}` : host, ...rest });
      },
      /** What the origin recorded so far (copies). */
      originRequests() {
        return origin.requests.map((r) => ({ ...r }));
      },
      async clearOrigin() {
        origin.requests.length = 0;
      },
      /** The redirect URI the OP accepts for an org host on this Worker. */
      callbackUrl(host) {
        return `http://${host}:${worker.port}/_orggate/callback`;
      },
      close,
    };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
