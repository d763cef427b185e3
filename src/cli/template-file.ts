// --template FILE for train and eval: a .json file holds template fields or a train config (whose "template"
// is used: evaluate with the template a model was trained on); any other file is one text with placeholders
// ({tools}, {example}, {system}; see src/toolcall/template.ts), such as the paper's own system prompt.
import { readFileSync } from 'node:fs';
import { stripJsonComments } from './train-config.ts';
import { resolveTemplate, type TemplateOptions } from '../toolcall/template.ts';

export function readTemplateFile(path: string): TemplateOptions {
  const text = readFileSync(path, 'utf8');
  try {
    if (!path.toLowerCase().endsWith('.json')) return resolveTemplate({ text: text.replace(/\r\n/g, '\n').replace(/\n$/, '') });
    const json = JSON.parse(stripJsonComments(text)) as Record<string, unknown>;
    return resolveTemplate(typeof json === 'object' && json !== null && 'model' in json ? json.template : json);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

