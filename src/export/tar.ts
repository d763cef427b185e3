// A POSIX ustar archive of the hand-over folder, so the studio can offer it as one download (`tar xf`).
// Names up to 100 bytes, regular files only: all export-run writes.

export interface TarEntry {
  name: string;
  data: Uint8Array | string;
  executable?: boolean;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function field(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length) throw new Error(`tar: "${value}" does not fit a ${length}-byte field`);
  header.set(bytes, offset);
}

/** An octal number, zero-padded, NUL-terminated, as ustar fields are. */
const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0');

function header(name: string, size: number, mode: number, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  field(h, 0, 100, name);
  field(h, 100, 8, octal(mode, 8));
  field(h, 108, 8, octal(0, 8)); // uid
  field(h, 116, 8, octal(0, 8)); // gid
  field(h, 124, 12, octal(size, 12));
  field(h, 136, 12, octal(mtime, 12));
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  h[156] = 0x30; // '0': a regular file
  field(h, 257, 6, 'ustar');
  field(h, 263, 2, '00');
  const sum = h.reduce((a, b) => a + b, 0);
  field(h, 148, 8, `${octal(sum, 7)}\0`);
  return h;
}

export function tarArchive(entries: TarEntry[], mtime = Math.floor(Date.now() / 1000)): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (encoder.encode(e.name).length > 100) throw new Error(`tar: the name ${e.name} is longer than 100 bytes`);
    const data = typeof e.data === 'string' ? encoder.encode(e.data) : e.data;
    parts.push(header(e.name, data.length, e.executable ? 0o755 : 0o644, mtime), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK)); // end of archive
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
