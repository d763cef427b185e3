// A run's hand-over, assembled the same way for the CLI's export-run and the studio's button: the prompts the
// run trains on (its split, over-long prompts dropped) rendered with its template, the check that the model's
// chat template gives the same text, and the bundle. Browser-safe; the caller adds the weights under model/.
import type { Instance } from '../data/instance.ts';
import type { QwenTokenizer } from '../model/tokenizer.ts';
import type { PreparedRun } from '../train/run.ts';
import { buildMessages, renderChatML, type ChatMessage } from '../toolcall/template.ts';
import { exportBundle, type BundleFile, type BundleInputs, type Engine } from './bundle.ts';

/** Prompts compared with the model's own chat template: enough to catch a template that differs. */
const TEMPLATE_CHECKS = 64;

/** Does the model's chat template give the studio's ChatML for these prompts? (Both engines apply it.) */
export function chatTemplateNote(tokenizer: QwenTokenizer, prompts: ChatMessage[][]): string {
  const checked = prompts.slice(0, TEMPLATE_CHECKS);
  let same = 0;
  try {
    for (const m of checked) if (tokenizer.applyChatTemplate(m, { addGenerationPrompt: true }) === renderChatML(m)) same++;
  } catch (e) {
    return `the model has no usable chat template (${(e as Error).message}): give the engine one that renders ChatML`;
  }
  return same === checked.length
    ? `the model's chat template renders the first ${checked.length} prompts exactly as the studio does`
    : `WARNING: the model's chat template renders ${checked.length - same} of the first ${checked.length} prompts differently from the studio's ChatML`;
}

export interface Handover {
  files: BundleFile[];
  notes: string[];
  trainPrompts: number;
  heldoutPrompts: number;
}

/** Every file of a prepared run's hand-over except the weights. */
export function handover(engine: Engine, run: PreparedRun, extra: Pick<BundleInputs, 'configLabel' | 'rewardSource' | 'policy'>): Handover {
  const { config, task, model } = run;
  const train: Instance[] = task.train.map((e) => e.instance);
  const heldout: Instance[] = task.heldout.map((e) => e.instance);
  const messages = (i: Instance) => buildMessages(i, config.template);
  const notes = [...run.notes.map((e) => e.message), chatTemplateNote(model.tokenizer, train.map(messages))];
  const bf16 = [...model.loaded.tensors.values()].some((t) => t.dtype === 'BF16');
  const files = exportBundle({ engine, config, train, heldout, messages, bf16, notes, ...extra });
  return { files, notes, trainPrompts: train.length, heldoutPrompts: heldout.length };
}
