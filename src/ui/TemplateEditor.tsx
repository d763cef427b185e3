// The prompt template of a run: the project's four parts, or one text with placeholders ({tools},
// {example}, {system}) for a prompt laid out differently, such as the paper's own. Below it, the rendered
// prompt of one training example: exactly what the policy will see once the run starts.
import { useMemo } from 'react';
import type { Instance } from '../data/instance.ts';
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
        <button disabled={disabled} data-testid="template-default" onClick={() => onChange(DEFAULT_TEMPLATE)}>Default wording</button>
      </div>
      <details data-testid="template-preview">
        <summary>Rendered prompt of {example ? `the first training example (${example.id})` : 'the first training example'}</summary>
        <pre className="prompt">{preview ?? (problem ? 'Fix the template first.' : 'Choose the training data first.')}</pre>
      </details>
    </div>
  );
}
