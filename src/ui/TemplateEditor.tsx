// The prompt template of a run: the project's four parts, or one text with placeholders ({tools},
// {example}, {system}) for a prompt laid out differently, such as the paper's own. Below it, the rendered
// prompt of one training example: exactly what the policy will see once the run starts.
import { useEffect, useMemo, useState } from 'react';
import { parseDataset, type DatasetFormat } from '../data/datasets.ts';
import type { Instance } from '../data/instance.ts';
import { generateSynthetic, type SyntheticLevel } from '../data/synthetic.ts';
import { DEFAULT_TEMPLATE, TemplateError, parseTemplateText, renderPrompt, templateText, type TemplateOptions } from '../toolcall/template.ts';
import { Segmented } from './fields.tsx';

const PARTS: { key: Exclude<keyof TemplateOptions, 'text'>; label: string }[] = [
  { key: 'preamble', label: 'preamble' },
  { key: 'toolsIntro', label: 'before the tools' },
  { key: 'instructions', label: 'instructions' },
  { key: 'exampleReply', label: 'example reply' },
];

export function TemplateEditor({ value, onChange, example, disabled }: {
  value: TemplateOptions;
  onChange: (template: TemplateOptions) => void;
  /** the first training example, when known */
  example: Instance | null;
  disabled?: boolean;
}) {
  const asText = value.text !== undefined;
  const problem = useMemo(() => {
    if (!asText) return null;
    try {
      parseTemplateText(value.text!);
      return null;
    } catch (e) {
      if (e instanceof TemplateError) return e.message;
      throw e;
    }
  }, [asText, value.text]);
  const preview = useMemo(() => (example && !problem ? renderPrompt(example, value) : null), [example, problem, value]);

  return (
    <div className="template-editor" data-testid="template-editor">
      <Segmented
        label="Template"
        value={asText ? 'text' : 'parts'}
        options={[
          { value: 'parts', label: 'Four parts', testid: 'template-parts' },
          { value: 'text', label: 'One text', testid: 'template-text' },
        ]}
        onChange={(mode) => onChange(mode === 'text' ? { ...value, text: templateText(value) } : { ...value, text: undefined })}
      />
      {asText ? (
        <label className="field wide">
          <span>system turn: {'{tools}'}, {'{example}'}, {'{system}'}; {'{{ }}'} for braces (a Python format string, as in the paper's code)</span>
          <textarea
            className="mono"
            rows={12}
            spellCheck={false}
            disabled={disabled}
            data-testid="template-text-input"
            value={value.text}
            onChange={(e) => onChange({ ...value, text: e.target.value })}
          />
        </label>
      ) : (
        PARTS.map((p) => (
          <label key={p.key} className="field wide">
            <span>{p.label}</span>
            <textarea rows={p.key === 'instructions' ? 4 : 2} disabled={disabled} data-testid={`template-${p.key}`} value={value[p.key]} onChange={(e) => onChange({ ...value, [p.key]: e.target.value })} />
          </label>
        ))
      )}
      {problem && <p className="summary fail" data-testid="template-error">{problem}</p>}
      <div className="actions">
        <button disabled={disabled} data-testid="template-default" onClick={() => onChange({ ...DEFAULT_TEMPLATE, text: undefined })}>Default wording</button>
      </div>
      <details data-testid="template-preview">
        <summary>Rendered prompt of {example ? `one training example (${example.id})` : 'one training example'}, as the policy will see it</summary>
        <pre className="prompt">{preview ?? (problem ? 'Fix the template first.' : 'Choose the training data first.')}</pre>
      </details>
    </div>
  );
}

/** The example the preview renders: the synthetic split's first, or the chosen file's first record. */
export function useFirstExample(source: { synthetic: { level: SyntheticLevel; seed: number } } | { file: File | null; format: DatasetFormat }): Instance | null {
  const synthetic = 'synthetic' in source ? source.synthetic : null;
  const file = 'file' in source ? source.file : null;
  const format = 'format' in source ? source.format : null;
  const fromGenerator = useMemo(
    () => (synthetic ? generateSynthetic({ level: synthetic.level, split: 'train', seed: synthetic.seed, count: 1 })[0] : null),
    [synthetic?.level, synthetic?.seed],
  );
  const [fromFile, setFromFile] = useState<Instance | null>(null);
  useEffect(() => {
    setFromFile(null);
    if (!file || !format) return;
    let live = true;
    void file.text().then((text) => live && setFromFile(parseDataset(text, format).records[0] ?? null), () => {});
    return () => {
      live = false;
    };
  }, [file, format]);
  return synthetic ? fromGenerator : fromFile;
}
