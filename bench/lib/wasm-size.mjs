// A Wasm size breakdown without tools: bytes per section, and the largest function bodies (with
// their names when the module still has a `name` section; orggate's release build is stripped).
const SECTION = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount', 'tag'];

function leb(buf, pos) {
  let result = 0;
  let shift = 0;
  let b;
  do {
    b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [result, pos];
}

function str(buf, pos) {
  const [len, p] = leb(buf, pos);
  return [buf.subarray(p, p + len).toString('utf8'), p + len];
}

export function wasmSections(buf, { allBodies = false } = {}) {
  let pos = 8;
  const sections = [];
  let importedFuncs = 0;
  let bodies = [];
  const names = new Map();
  while (pos < buf.length) {
    const id = buf[pos++];
    const [size, p] = leb(buf, pos);
    const start = p;
    const end = p + size;
    let name = SECTION[id] ?? `id${id}`;
    if (id === 0) {
      const [cname, q] = str(buf, start);
      name = `custom:${cname}`;
      if (cname === 'name') {
        let r = q;
        while (r < end) {
          const sub = buf[r++];
          const [subSize, s] = leb(buf, r);
          if (sub === 1) {
            let [count, t] = leb(buf, s);
            for (; count > 0; count--) {
              const [idx, u] = leb(buf, t);
              const [fname, v] = str(buf, u);
              names.set(idx, fname);
              t = v;
            }
          }
          r = s + subSize;
        }
      }
    } else if (id === 2) {
      let [count, q] = leb(buf, start);
      for (; count > 0; count--) {
        [, q] = str(buf, q);
        [, q] = str(buf, q);
        const kind = buf[q++];
        if (kind === 0) { [, q] = leb(buf, q); importedFuncs++; } else if (kind === 1) { q += 1; const flags = buf[q++]; [, q] = leb(buf, q); if (flags & 1) [, q] = leb(buf, q); } else if (kind === 2) { const flags = buf[q++]; [, q] = leb(buf, q); if (flags & 1) [, q] = leb(buf, q); } else if (kind === 3) { q += 2; } else if (kind === 4) { q += 1; [, q] = leb(buf, q); }
      }
    } else if (id === 10) {
      let [count, q] = leb(buf, start);
      for (let i = 0; i < count; i++) {
        const [bodySize, r] = leb(buf, q);
        bodies.push({ index: importedFuncs + i, size: bodySize });
        q = r + bodySize;
      }
    }
    sections.push({ name, size: end - start });
    pos = end;
  }
  bodies = bodies.sort((a, b) => b.size - a.size);
  const merged = new Map();
  for (const s of sections) merged.set(s.name, (merged.get(s.name) ?? 0) + s.size);
  return {
    total: buf.length,
    sections: [...merged].map(([name, size]) => ({ name, size })).sort((a, b) => b.size - a.size),
    functions: bodies.length,
    imported_functions: importedFuncs,
    named: names.size > 0,
    largest: bodies.slice(0, 25).map((b) => ({ ...b, name: names.get(b.index) })),
    ...(allBodies ? { bodies: bodies.map((b) => ({ ...b, name: names.get(b.index) })) } : {}),
  };
}
