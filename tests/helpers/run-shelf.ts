// The studio's RunShelf in memory, for running the Worker's Training outside a browser.
import { RUN_META, type RunShelf } from '../../src/worker/run-shelf.ts';

export function memoryShelf(): RunShelf & { runs: Map<string, Map<string, Uint8Array | string>> } {
  const runs = new Map<string, Map<string, Uint8Array | string>>();
  let current: string | null = null;
  const files = (id: string) => runs.get(id) ?? runs.set(id, new Map()).get(id)!;
  return {
    runs,
    current: async () => current,
    storage: (id) => ({
      where: (name) => `memory ${id}/${name}`,
      read: async (name) => {
        const data = runs.get(id)?.get(name);
        return data === undefined ? null : typeof data === 'string' ? new TextEncoder().encode(data) : data;
      },
      write: async (name, data) => void files(id).set(name, data),
    }),
    file: async (id, name) => {
      const data = runs.get(id)?.get(name);
      return data === undefined ? null : new Blob([data as Uint8Array<ArrayBuffer> | string]);
    },
    makeCurrent: async (id) => {
      current = id;
      for (const [other, files] of [...runs]) if (other !== id && !files.has(RUN_META)) runs.delete(other);
    },
    list: async () => [...runs.keys()].sort(),
    remove: async (id) => {
      runs.delete(id);
      if (current === id) current = null;
    },
  };
}
