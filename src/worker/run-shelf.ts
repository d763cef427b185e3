// Where the studio keeps its runs: the browser's private file system (OPFS), one folder per run (its
// checkpoint, events, name, a copy of its data) and a note naming the current one, the run Resume continues. A
// new run writes into a folder of its own and becomes current only once its first checkpoint is written, so a
// start that fails, or stops before checkpointing, leaves the saved run as it was. Runs stay until deleted, so
// they can be compared side by side.
import type { RunStorage } from '../train/run.ts';

export interface RunShelf {
  /** the saved run's id, or null */
  current(): Promise<string | null>;
  storage(id: string): RunStorage;
  /** a file of a run without reading it (a checkpoint's header, a download) */
  file(id: string, name: string): Promise<Blob | null>;
  /** `id` becomes the saved run; folders of starts that never got going (no RUN_META) are removed */
  makeCurrent(id: string): Promise<void>;
  /** every run's id, oldest first */
  list(): Promise<string[]>;
  /** deletes a run and its files (the current one too: then there is none) */
  remove(id: string): Promise<void>;
}

/** A run's name and description, written when it starts: a folder without it is a start that failed. */
export const RUN_META = 'run.json';

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
      for (const other of await runIds(dir)) {
        if (other !== id && !(await readOpfs(() => runDir(other), RUN_META))) await dir.removeEntry(`run-${other}`, { recursive: true });
      }
    },
    list: async () => runIds(await root()),
    async remove(id) {
      const dir = await root();
      await dir.removeEntry(`run-${id}`, { recursive: true }).catch((e) => {
        if (!notFound(e)) throw e;
      });
      if ((await this.current()) === id) await dir.removeEntry(CURRENT);
    },
  };
}

/** Run ids are base-36 times first: sorted, oldest first. */
async function runIds(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const ids: string[] = [];
  for await (const [name, handle] of dir.entries()) if (handle.kind === 'directory' && name.startsWith('run-')) ids.push(name.slice(4));
  return ids.sort();
}
