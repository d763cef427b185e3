// The studio's hand-over download: a ustar archive that the system's tar reads back.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarArchive } from '../../src/export/tar.ts';

describe('tarArchive', () => {
  it('round-trips through tar: names, bytes, modes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooln1-tar-'));
    const big = new Uint8Array(1300).map((_, i) => (i * 7) % 256);
    const archive = tarArchive([
      { name: 'verl/README.md', data: '# héllo\n' },
      { name: 'verl/data/train.parquet', data: big },
      { name: 'verl/run_verl.sh', data: '#!/bin/sh\n', executable: true },
      { name: 'verl/empty', data: '' },
    ]);
    expect(archive.length % 512).toBe(0);
    writeFileSync(join(dir, 'a.tar'), archive);
    const r = spawnSync('tar', ['-xf', 'a.tar'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(readFileSync(join(dir, 'verl/README.md'), 'utf8')).toBe('# héllo\n');
    expect(new Uint8Array(readFileSync(join(dir, 'verl/data/train.parquet')))).toEqual(big);
    expect(statSync(join(dir, 'verl/run_verl.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, 'verl/empty'), 'utf8')).toBe('');
    expect(() => tarArchive([{ name: 'x'.repeat(101), data: '' }])).toThrow('longer than 100 bytes');
  });
});
