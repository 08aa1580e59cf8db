// orggate's built Worker (build/index.js: the WorkerEntrypoint class wasm-bindgen generates)
// behind the bench loop. Not part of the product.
import Orggate from '../../build/index.js';
import { loopWorker } from './loop.mjs';

export default loopWorker((request, env, ctx) => new Orggate(ctx, env).fetch(request));
