// The jose peer behind the bench loop (bundled by esbuild like the peer itself).
import peer from '../peer/worker.mjs';
import { loopWorker } from './loop.mjs';

export default loopWorker((request, env, ctx) => peer.fetch(request, env, ctx));
