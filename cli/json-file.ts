/** Writing a large JSON document to a file without building it whole. */
// not an ES import, which would evaluate every export of node:fs on the analyze path (docs/analysis.md, Speed)
const { closeSync, openSync, writeSync } = process.getBuiltinModule('node:fs');

/**
 * Writes exactly the bytes of JSON.stringify(doc) to `path`, the elements of the document's
 * top-level arrays (the connections of an analysis) one at a time, in writes of about 64 KiB: no
 * string, and no buffer, the size of the whole document is ever built (fresh memory is slow to
 * touch on virtual machines: docs/analysis.md, Speed).
 */
export function writeJsonFile(path: string, doc: object): void {
  const fd = openSync(path, 'w');
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    writeSync(fd, parts.join(''));
    parts = [];
    size = 0;
  };
  const put = (s: string): void => {
    parts.push(s);
    size += s.length;
    if (size >= 65536) flush();
  };
  try {
    let sep = '{';
    for (const [k, v] of Object.entries(doc)) {
      // JSON.stringify leaves out these properties
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      put(`${sep}${JSON.stringify(k)}:`);
      sep = ',';
      if (Array.isArray(v)) {
        put('[');
        for (let i = 0; i < v.length; i++) put((i ? ',' : '') + (JSON.stringify(v[i]) ?? 'null'));
        put(']');
      } else {
        put(JSON.stringify(v));
      }
    }
    put(sep === '{' ? '{}' : '}');
    flush();
  } finally {
    closeSync(fd);
  }
}
