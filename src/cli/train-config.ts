// The train command's configuration file: the one TrainConfig (src/train/config.ts) as JSON with // and /* */
// comments; relative paths are relative to the config file.
import { isAbsolute, resolve } from 'node:path';
import { parseTrainConfigText, type TrainConfig } from '../train/config.ts';

export { stripJsonComments } from '../train/config.ts';

const isUrl = (p: string) => /^https?:\/\//.test(p);

export function parseTrainConfig(source: string, where: string): TrainConfig {
  const base = resolve(where, '..');
  return parseTrainConfigText(source, where, (p) => (isUrl(p) || isAbsolute(p) ? p : resolve(base, p)));
}
