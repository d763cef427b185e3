// Node-only: reading a dataset from a path (or a URL). Kept apart so browser bundles never pull in node:fs.

import { readFile } from 'node:fs/promises';
import { fetchText } from './load.ts';
import { parseDataset, type DatasetFormat, type DatasetLoad } from './datasets.ts';

/** The text at a file path, or at an http(s) URL. */
export async function readSourceText(pathOrUrl: string): Promise<string> {
  if (/^https?:\/\//.test(pathOrUrl)) return fetchText(pathOrUrl);
  return readFile(pathOrUrl, 'utf8');
}

export async function loadDatasetFile(pathOrUrl: string, format: DatasetFormat): Promise<DatasetLoad> {
  return parseDataset(await readSourceText(pathOrUrl), format);
}
