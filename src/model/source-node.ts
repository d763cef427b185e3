// Node-only model sources: a folder on disk, and the embedded tiny model read from public/models/tiny/.
import { open, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelSource } from './source.ts';

const CHUNK_BYTES = 1 << 20;

/** A model folder on disk in Hugging Face layout (config.json, model.safetensors, tokenizer.json, ...). */
export function dirSource(dir: string): ModelSource {
  const root = resolve(dir);
  return {
    label: basename(root),
    where: (file) => join(root, file),
    async open(file) {
      const path = join(root, file);
      const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null;
        throw e;
      });
      if (!info) return null;
      const handle = await open(path, 'r');
      // Pull-based so a cancelled read (abort, or a header that fails validation) stops reading the disk.
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const chunk = new Uint8Array(CHUNK_BYTES);
          const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
          if (bytesRead === 0) {
            await handle.close();
            controller.close();
          } else {
            controller.enqueue(chunk.subarray(0, bytesRead));
          }
        },
        cancel: () => handle.close(),
      });
      return { size: info.size, stream };
    },
  };
}

/** public/models/tiny/ of this checkout: the same files the browser fetches from /models/tiny/. */
export function embeddedDirSource(): ModelSource {
  const dir = fileURLToPath(new URL('../../public/models/tiny/', import.meta.url));
  return { ...dirSource(dir), label: 'embedded tiny model' };
}
