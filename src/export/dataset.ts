// A run's prompts and ground truths as the data files verl and TRL read.
//
// verl: parquet in the row layout of Tool-N1's preprocessing: data_source, prompt (chat messages), ability,
// reward_model {style: "rule", ground_truth: the calls as JSON text}, extra_info {split, index, id}; one file
// per split (train.parquet, test.parquet). TRL: JSON Lines with a conversational `prompt` column and the
// `ground_truth` column its reward function takes. The messages are the run's template already applied
// (system turn with the tools, tool results as user turns), so the model's chat template, which both
// engines apply, gives the very text the studio trains on.
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import type { Instance } from '../data/instance.ts';
import { pyDumps } from '../toolcall/json.ts';
import type { ChatMessage } from '../toolcall/template.ts';

export const DATA_SOURCE = 'toolcall';

export type Split = 'train' | 'test';

export interface VerlRow {
  data_source: string;
  prompt: ChatMessage[];
  ability: string;
  reward_model: { style: 'rule'; ground_truth: string };
  extra_info: { split: Split; index: bigint; id: string };
}

export interface TrlRow {
  prompt: ChatMessage[];
  ground_truth: string;
  id: string;
}

/** The ground truth as the reward module reads it: json.dumps of the list of {name, arguments}. */
export function groundTruthText(instance: Instance): string {
  return pyDumps(instance.answers.map((c) => ({ name: c.name, arguments: c.arguments })));
}

export function verlRows(instances: Instance[], split: Split, messages: (i: Instance) => ChatMessage[]): VerlRow[] {
  return instances.map((inst, index) => ({
    data_source: DATA_SOURCE,
    prompt: messages(inst),
    ability: DATA_SOURCE,
    reward_model: { style: 'rule', ground_truth: groundTruthText(inst) },
    extra_info: { split, index: BigInt(index), id: inst.id },
  }));
}

export function trlRows(instances: Instance[], messages: (i: Instance) => ChatMessage[]): TrlRow[] {
  return instances.map((inst) => ({ prompt: messages(inst), ground_truth: groundTruthText(inst), id: inst.id }));
}

const text = (name: string): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });

// The schema pyarrow writes for these rows (HF datasets' to_parquet): strings, a LIST of role/content
// structs, two structs, an int64 index.
const VERL_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 5 },
  text('data_source'),
  { name: 'prompt', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'REQUIRED', num_children: 2 },
  text('role'),
  text('content'),
  text('ability'),
  { name: 'reward_model', repetition_type: 'REQUIRED', num_children: 2 },
  text('style'),
  text('ground_truth'),
  { name: 'extra_info', repetition_type: 'REQUIRED', num_children: 3 },
  text('split'),
  { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
  text('id'),
];

const VERL_COLUMNS = ['data_source', 'prompt', 'ability', 'reward_model', 'extra_info'] as const;

export function verlParquet(rows: VerlRow[]): Uint8Array {
  // Only role and content: a message's other fields (none today) would not fit the schema.
  const plain = rows.map((r) => ({ ...r, prompt: r.prompt.map((m) => ({ role: m.role, content: m.content })) }));
  const columnData = VERL_COLUMNS.map((name) => ({ name, data: plain.map((r) => r[name]) }));
  return new Uint8Array(parquetWriteBuffer({ columnData, schema: VERL_SCHEMA, createdBy: 'tool-n1-studio export-run' }));
}

export function trlJsonl(rows: TrlRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}
