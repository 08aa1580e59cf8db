// Child processes for e2e tests: spawn in their own process group, wait (bounded) for a ready
// line on stdout/stderr, and kill the whole group by PID. Everything started is tracked and
// killed by killAll() (call it from an `after` hook), and on process exit as a last resort.
import { spawn } from 'node:child_process';

const live = new Set();

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {object} [o]
 * @param {RegExp|string} [o.ready] pattern to wait for (stdout or stderr); resolves with the match
 * @param {number} [o.timeoutMs] bounded wait for the ready line (default 30 s)
 * @param {object} [o.env] extra env
 * @param {string} [o.cwd]
 * @param {boolean} [o.echo] mirror child output to this process' stderr
 * @returns {Promise<{child, pid:number, match:RegExpMatchArray|null, output:()=>string, stop:(signal?:string, waitMs?:number)=>Promise<void>}>}
 */
export async function startProcess(cmd, args = [], {
  ready, timeoutMs = 30_000, env = {}, cwd, echo = Boolean(process.env.E2E_ECHO),
} = {}) {
  const child = spawn(cmd, args, {
    cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  const proc = {
    child,
    pid: child.pid,
    match: null,
    output: () => out,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    async stop(signal = 'SIGTERM', waitMs = 5_000) {
      await killGroup(proc, signal, waitMs);
    },
  };
  live.add(proc);
  proc.exited.then(() => live.delete(proc));
  const onData = (d) => {
    const s = d.toString();
    out += s;
    if (out.length > 1_000_000) out = out.slice(-500_000);
    if (echo) process.stderr.write(s);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  if (!ready) return proc;
  const re = typeof ready === 'string' ? new RegExp(ready.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : ready;
  try {
    proc.match = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd} not ready within ${timeoutMs} ms; output:\n${out.slice(-4000)}`)), timeoutMs);
      const check = () => {
        const m = out.match(re);
        if (m) {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.stderr.off('data', check);
          resolve(m);
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${cmd} exited (${code ?? signal}) before ready; output:\n${out.slice(-4000)}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      check();
    });
  } catch (err) {
    await killGroup(proc, 'SIGKILL', 2_000);
    throw err;
  }
  return proc;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

async function killGroup(proc, signal, waitMs) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
    // leader gone; still make sure no group member survives
    signalGroup(proc.pid, 'SIGKILL');
    live.delete(proc);
    return;
  }
  signalGroup(proc.pid, signal);
  const done = await Promise.race([
    proc.exited.then(() => true),
    new Promise((r) => { setTimeout(() => r(false), waitMs).unref(); }),
  ]);
  // the group may have other members (e.g. wrangler -> workerd); take them down too
  signalGroup(proc.pid, 'SIGKILL');
  if (!done) await Promise.race([proc.exited, new Promise((r) => { setTimeout(r, 2_000).unref(); })]);
  live.delete(proc);
}

/** Kill every process started through this module that is still alive. */
export async function killAll(signal = 'SIGTERM') {
  await Promise.all([...live].map((p) => killGroup(p, signal, 5_000)));
}

process.on('exit', () => {
  for (const p of live) signalGroup(p.pid, 'SIGKILL');
});

/** Ask the OS for a free loopback port (best effort; races are possible but rare). */
export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
