// Runs wrk (Debian package) against a contestant and parses what it prints.
import { spawn } from 'node:child_process';

const WRK = process.env.WRK ?? '/usr/bin/wrk';
const LUA = new URL('../wrk/tokens.lua', import.meta.url).pathname;

function toMs(v, unit) {
  const x = Number(v);
  return { us: x / 1000, ms: x, s: x * 1000 }[unit];
}

export function parseWrk(out) {
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : NaN; };
  const lat = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const requests = num(/(\d+) requests in/);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests,
    p50ms: lat(50),
    p99ms: lat(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    poolWraps: num(/BENCH_POOL_WRAPS (\d+)/) || 0,
  };
}

/**
 * One wrk run. `token`: a fixed bearer token; `pool`: a token file for the Lua script (unique
 * tokens); neither: no Authorization header.
 */
export function runWrk({
  port, host = 'acme.localhost', path = '/api/reports/q1', token, pool, seconds, threads = 2, connections = 16,
}) {
  const hostHeader = `${host}:${port}`;
  seconds = Math.max(1, Math.round(seconds));
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '--timeout', '10s'];
  if (pool) {
    args.push('-s', LUA, `http://127.0.0.1:${port}${path}`, '--', pool, hostHeader, String(threads), path);
  } else {
    args.push('-H', `Host: ${hostHeader}`);
    if (token) args.push('-H', `Authorization: Bearer ${token}`);
    args.push(`http://127.0.0.1:${port}${path}`);
  }
  return new Promise((resolve, reject) => {
    const p = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const killer = setTimeout(() => p.kill('SIGKILL'), (seconds + 30) * 1000);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(killer);
      if (code !== 0) reject(new Error(`wrk exited ${code}: ${err}${out}`));
      else resolve({ ...parseWrk(out), raw: out });
    });
  });
}
