// orggate's built Worker (build/index.js → build/worker/shim.mjs: a module Worker object) behind
// the bench loop. Not part of the product.
import Orggate from '../../build/index.js';
import { loopWorker } from './loop.mjs';

// Older builds exported a WorkerEntrypoint class; current ones export `{ fetch }`.
export default loopWorker((request, env, ctx) => (typeof Orggate === 'function'
  ? new Orggate(ctx, env).fetch(request)
  : Orggate.fetch(request, env, ctx)));
