// onnxruntime-web beside our engine: the engine choice of the Playground and the Benchmarks, the panel that
// loads a model on an ORT backend (the policy exported in the Worker, or an ONNX folder), the Export ONNX
// button, and the GPU tab's cross-check. All engine work is in the Worker.
import { useState, type ChangeEvent } from 'react';
import type { InferenceBackend, OrtBackend, PolicyChoice } from '../worker/protocol.ts';
import { ortBackendOf } from '../worker/protocol.ts';
import { DownloadLink } from './download.tsx';
import { Segmented, SelectField } from './fields.tsx';
import { formatBytes } from './format.ts';
import { LoadProgressView } from './LoadProgress.tsx';
import { engineBusy, useStudio, type OrtSourceKind } from './store.ts';

const BACKENDS: { value: InferenceBackend; label: string; testid: string }[] = [
  { value: 'engine', label: 'Our WGSL engine', testid: 'engine' },
  { value: 'ort-webgpu', label: 'onnxruntime-web WebGPU', testid: 'ort-webgpu' },
  { value: 'ort-wasm', label: 'onnxruntime-web WASM (CPU)', testid: 'ort-wasm' },
];

export const backendName = (b: OrtBackend) => `onnxruntime-web (${b === 'webgpu' ? 'WebGPU' : 'WASM'})`;

/** Who decodes; `testid` prefixes each option's test id. */
export function BackendChoice({ value, testid, onChange }: { value: InferenceBackend; testid: string; onChange(b: InferenceBackend): void }) {
  return <Segmented label="Inference engine" value={value} options={BACKENDS.map((b) => ({ ...b, testid: `${testid}-${b.testid}` }))} onChange={onChange} />;
}

/** The model an ORT backend holds, in a line (or why there is none). */
export function OrtModelLine({ backend }: { backend: OrtBackend }) {
  const info = useStudio((s) => s.ort[backend].info);
  return (
    <p className="note" data-testid="ort-model" data-loaded={info !== null}>
      {info
        ? `${backendName(backend)} runs ${info.label}: ${info.layers} layers, vocabulary ${info.vocab.toLocaleString('en-US')}, ${info.kvType} KV cache (${info.graph})${info.threads !== null ? `, ${info.threads} WASM thread${info.threads === 1 ? '' : 's'}` : ''}, loaded in ${(info.loadMs / 1000).toFixed(2)} s. Sampling on the host, by the engine's rules.`
        : `No model on ${backendName(backend)} yet: load one in the Playground.`}
    </p>
  );
}

const ORT_SOURCES: { value: OrtSourceKind; label: string; testid: string }[] = [
  { value: 'loaded', label: 'Loaded model (export)', testid: 'ort-source-loaded' },
  { value: 'trained', label: 'Trained policy (export)', testid: 'ort-source-trained' },
  { value: 'hub', label: 'Hub ONNX repo', testid: 'ort-source-hub' },
  { value: 'files', label: 'Local ONNX folder', testid: 'ort-source-files' },
];

// React's types do not know the directory-picker attribute, which Chromium, Firefox and Safari all support.
const DIRECTORY_PICKER = { webkitdirectory: '', multiple: true } as object;

/** The Playground's panel for the chosen ORT backend: where its model comes from, Load, progress, errors. */
export function OrtModelPanel({ backend }: { backend: OrtBackend }) {
  const settings = useStudio((s) => s.settings);
  const update = useStudio((s) => s.updateSettings);
  const state = useStudio((s) => s.ort[backend]);
  const hasModel = useStudio((s) => s.model !== null);
  const busy = useStudio((s) => engineBusy(s) !== null);
  const loadOrt = useStudio((s) => s.loadOrt);
  const kind = settings.ortSource;
  const needsModel = (kind === 'loaded' || kind === 'trained') && !hasModel;

  const pickFolder = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = '';
    if (files.length > 0) void loadOrt(backend, { kind: 'files', files }, files[0].webkitRelativePath.split('/')[0] || 'picked folder');
  };
  const load = () => {
    if (kind === 'hub') void loadOrt(backend, { kind: 'hub', repo: settings.ortHubRepo.trim() }, settings.ortHubRepo.trim());
    else if (kind === 'loaded' || kind === 'trained') void loadOrt(backend, { kind: 'policy', policy: kind }, kind === 'loaded' ? 'the loaded model' : 'the trained policy');
  };

  return (
    <div className="ort-panel" data-testid="ort-panel">
      <Segmented label="ONNX model source" value={kind} options={ORT_SOURCES} onChange={(ortSource) => update({ ortSource })} />
      <div className="source-row">
        {kind === 'hub' && (
          <input
            className="grow mono"
            data-testid="ort-hub-repo"
            aria-label="Hugging Face repo id of an ONNX model"
            value={settings.ortHubRepo}
            spellCheck={false}
            onChange={(e) => update({ ortHubRepo: e.target.value })}
          />
        )}
        {kind === 'files' && <p className="muted grow">A folder with onnx/model.onnx (or model_fp16.onnx), config.json and tokenizer files.</p>}
        {(kind === 'loaded' || kind === 'trained') && (
          <p className="muted grow">Exported here by the project’s graph writer from the {kind === 'loaded' ? 'loaded weights (adapter merged)' : 'last run’s weights'}.</p>
        )}
        {kind === 'files' ? (
          <label className={busy ? 'button primary disabled' : 'button primary'}>
            Choose ONNX folder…
            <input type="file" hidden disabled={busy} data-testid="ort-folder-input" onChange={pickFolder} {...DIRECTORY_PICKER} />
          </label>
        ) : (
          <button className="primary" data-testid="ort-load" disabled={busy || needsModel || (kind === 'hub' && !settings.ortHubRepo.trim())} onClick={load}>
            Load on {backend === 'webgpu' ? 'WebGPU' : 'WASM'}
          </button>
        )}
      </div>
      {needsModel && <p className="note">Load a model above first.</p>}
      {state.loading !== null && <LoadProgressView label={`${state.loading} on ${backendName(backend)}`} progress={state.progress} testid="ort-progress" />}
      {state.error &&
        (state.error.code === 'cancelled' ? (
          <p className="note" data-testid="ort-error" data-code="cancelled">Load cancelled.</p>
        ) : (
          <p className="summary fail" data-testid="ort-error" data-code={state.error.code}>{state.error.message}</p>
        ))}
      <OrtModelLine backend={backend} />
    </div>
  );
}

/** The playground's engine choice and, for an ORT backend, its model panel. */
export function InferenceCard() {
  const backend = useStudio((s) => s.settings.backend);
  const update = useStudio((s) => s.updateSettings);
  return (
    <div className="inference" data-testid="inference-panel">
      <h3>Inference engine</h3>
      <BackendChoice value={backend} testid="backend" onChange={(b) => update({ backend: b })} />
      {backend !== 'engine' && <OrtModelPanel backend={ortBackendOf(backend)} />}
    </div>
  );
}

/** Export ONNX of the loaded model or the trained policy: export-onnx's folder as one tar. */
export function OnnxExportButton({ policy, disabled = false }: { policy: PolicyChoice; disabled?: boolean }) {
  const state = useStudio((s) => s.onnxExport[policy]);
  const busy = useStudio((s) => engineBusy(s) !== null);
  const exportOnnx = useStudio((s) => s.exportOnnx);
  const [dtype, setDtype] = useState<'f32' | 'f16'>('f32');
  return (
    <div className="onnx-export" data-testid={`onnx-export-${policy}`}>
      <div className="actions">
        <button
          className="secondary"
          data-testid="export-onnx"
          disabled={disabled || busy}
          title="onnx/model.onnx (f16: model_fp16.onnx), config.json, generation_config.json and the tokenizer files, for onnxruntime-web or transformers.js"
          onClick={() => void exportOnnx(policy, dtype)}
        >
          {state.status === 'running' ? 'Exporting ONNX…' : 'Export ONNX'}
        </button>
        <SelectField<'f32' | 'f16'> label="dtype" testid="export-onnx-dtype" value={dtype} options={['f32', 'f16']} onChange={setDtype} />
        {state.status === 'done' &&
          state.files.map((f) => (
            <DownloadLink key={f.name} name={f.name} blob={f.blob}>
              <span data-testid="onnx-export-file">{f.name}</span> <span className="muted">({formatBytes(f.blob.size)})</span>
            </DownloadLink>
          ))}
      </div>
      {state.status === 'failed' && <p className="summary fail" data-testid="onnx-export-error">{state.error.message}</p>}
    </div>
  );
}

/** The GPU tab's cross-check: the embedded model's logits on our engine and on onnxruntime-web. */
export function CrossCheckCard() {
  const checks = useStudio((s) => s.crossCheck);
  const busy = useStudio((s) => engineBusy(s) !== null);
  const run = useStudio((s) => s.runCrossCheck);
  return (
    <section className="card" data-testid="crosscheck-panel">
      <h2>Cross-check with onnxruntime-web</h2>
      <p className="note">
        The embedded model on our engine and, exported by our graph writer, on onnxruntime-web: full-vocabulary logits at every position of
        the Playground’s prompt (ORT prefills, then decodes from its KV cache), max |difference| relative to the largest logit.
      </p>
      <div className="actions">
        {(['webgpu', 'wasm'] as const).map((b) => (
          <button key={b} className="secondary" data-testid={`crosscheck-run-${b}`} disabled={busy} onClick={() => void run(b)}>
            {checks[b]?.status === 'running' ? 'Checking…' : `Run on ${b === 'webgpu' ? 'WebGPU' : 'WASM'}`}
          </button>
        ))}
      </div>
      {(['webgpu', 'wasm'] as const).map((b) => {
        const c = checks[b];
        if (!c || c.status === 'running') return null;
        if (c.status === 'failed') {
          return (
            <p key={b} className="summary fail" data-testid="crosscheck-result" data-backend={b} data-status="error">
              {backendName(b)}: {c.error.message}
            </p>
          );
        }
        const r = c.report;
        return (
          <p key={b} className={r.pass ? 'summary pass' : 'summary fail'} data-testid="crosscheck-result" data-backend={b} data-status={r.pass ? 'pass' : 'fail'}>
            {backendName(b)} · {r.model} · {r.tokens} positions × {r.vocab.toLocaleString('en-US')} logits · max difference{' '}
            <strong data-testid="crosscheck-diff">{r.maxRelDiff.toExponential(2)}</strong> of the largest logit (pass ≤ {r.tolerance.toExponential(0)}) ·{' '}
            {(r.ms / 1000).toFixed(1)} s
          </p>
        );
      })}
    </section>
  );
}
