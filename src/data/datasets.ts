// One entry point for every dataset format the studio trains on; each yields Instances plus the records it
// had to skip (with line numbers) and, for ToolACE, the instances it dropped.

import type { LoadResult } from './load.ts';
import { parseInstances, type Instance } from './instance.ts';
import { parseXlam } from './xlam.ts';
import { parseToolace } from './toolace.ts';

export type DatasetFormat = 'instance' | 'xlam' | 'toolace';

export interface DatasetLoad extends LoadResult<Instance> {
  /** Instances left out on purpose (ToolACE calls to tools missing from the list). */
  dropped: number;
}

export function parseDataset(text: string, format: DatasetFormat): DatasetLoad {
  switch (format) {
    case 'instance':
      return { ...parseInstances(text), dropped: 0 };
    case 'xlam':
      return { ...parseXlam(text), dropped: 0 };
    case 'toolace':
      return parseToolace(text);
  }
}
