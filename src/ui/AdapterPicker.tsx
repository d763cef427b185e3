// A PEFT LoRA adapter over the loaded model (a CLI LoRA run's folder, a TRL or PEFT save): picked as a
// folder, checked against the model in the Worker, then used by the Playground and the Benchmarks.
import type { ChangeEvent } from 'react';
import { engineBusy, useStudio } from './store.ts';

// React's types do not know the directory-picker attribute, which Chromium, Firefox and Safari all support.
const DIRECTORY_PICKER = { webkitdirectory: '', multiple: true } as object;

export function AdapterPicker() {
  const model = useStudio((s) => s.model);
  const adapter = useStudio((s) => s.adapter);
  const loadAdapter = useStudio((s) => s.loadAdapter);
  const unloadAdapter = useStudio((s) => s.unloadAdapter);
  const busy = useStudio((s) => engineBusy(s) !== null) || adapter.loading !== null;
  if (!model) return null;

  const pick = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = '';
    if (files.length > 0) void loadAdapter(files, files[0].webkitRelativePath.split('/')[0] || 'picked folder');
  };
  const info = adapter.info;
  return (
    <div className="adapter" data-testid="adapter-panel">
      <div className="source-row">
        <p className="grow" data-testid="adapter-state">
          {adapter.loading !== null
            ? `Reading ${adapter.loading}…`
            : info
              ? `LoRA adapter ${info.label}: r = ${info.rank}, α = ${info.alpha}, ${info.pairs} matrix pairs on ${info.targets.join(', ')}`
              : 'No LoRA adapter: the base model as loaded.'}
        </p>
        <label className={busy ? 'button disabled' : 'button'} title="A folder with adapter_config.json and adapter_model.safetensors">
          {info ? 'Other adapter…' : 'Add LoRA adapter…'}
          <input type="file" hidden disabled={busy} data-testid="adapter-input" onChange={pick} {...DIRECTORY_PICKER} />
        </label>
        {info && (
          <button data-testid="adapter-remove" disabled={busy} onClick={() => void unloadAdapter()}>
            Remove
          </button>
        )}
      </div>
      {info?.baseModel && <p className="note">Trained over {info.baseModel}.</p>}
      {adapter.error && <p className="summary fail" data-testid="adapter-error">{adapter.error.message}</p>}
    </div>
  );
}
