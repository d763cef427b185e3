// Where the studio keeps its saved run: the browser's private file system (OPFS), one folder per run and a
// note naming the current one. A new run writes into a folder of its own and becomes current only once its
// first checkpoint is written, so a start that fails, or stops before checkpointing, leaves the saved run as
// it was.
import type { RunStorage } from '../train/run.ts';

export interface RunShelf {
  /** the saved run's id, or null */
  current(): Promise<string | null>;
  storage(id: string): RunStorage;
  /** a file of a run without reading it (a checkpoint's header, a download) */
  file(id: string, name: string): Promise<Blob | null>;
  /** `id` becomes the saved run; the others (the old one, runs that never checkpointed) are removed */
  makeCurrent(id: string): Promise<void>;
}

const ROOT = 'training';
const CURRENT = 'current-run';

const notFound = (e: unknown) => e instanceof DOMException && e.name === 'NotFoundError';

async function root(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create: true });
}

async function readOpfs(dir: () => Promise<FileSystemDirectoryHandle>, name: string): Promise<File | null> {
  try {
    return await (await (await dir()).getFileHandle(name)).getFile();
  } catch (e) {
    if (notFound(e)) return null;
    throw e;
  }
}

/** createWritable fills a swap file that replaces the old one only on close: a failed write keeps the old file. */
async function writeOpfs(dir: FileSystemDirectoryHandle, name: string, data: Uint8Array | string): Promise<void> {
  const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
  try {
    await writable.write(data as string | Uint8Array<ArrayBuffer>);
    await writable.close();
  } catch (e) {
    await writable.abort();
    throw e;
  }
}

export function opfsShelf(): RunShelf {
  const runDir = async (id: string) => (await root()).getDirectoryHandle(`run-${id}`, { create: true });
  return {
    async current() {
      const note = await readOpfs(root, CURRENT);
      return note ? (await note.text()).trim() || null : null;
    },
    storage: (id) => ({
      where: (name) => `browser storage (OPFS ${ROOT}/run-${id}/${name})`,
      read: async (name) => {
        const file = await readOpfs(() => runDir(id), name);
        return file ? new Uint8Array(await file.arrayBuffer()) : null;
      },
      write: async (name, data) => writeOpfs(await runDir(id), name, data),
    }),
    file: (id, name) => readOpfs(() => runDir(id), name),
    async makeCurrent(id) {
      const dir = await root();
      await writeOpfs(dir, CURRENT, id);
      const names: string[] = [];
      for await (const [name] of dir.entries()) names.push(name);
      for (const name of names) if (name !== CURRENT && name !== `run-${id}`) await dir.removeEntry(name, { recursive: true });
    },
  };
}
