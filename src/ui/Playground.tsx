// The playground: pick a model, ask a question with some example tools, watch G sampled completions
// stream in with their <think> and <tool_call> parts shown apart. Every bit of engine work is in the Worker.
import { useMemo, useState, type ChangeEvent } from 'react';
import { parseCompletion } from '../toolcall/decode.ts';
import { PLAYGROUND_EXAMPLES } from '../toolcall/examples.ts';
import { toolName } from '../data/instance.ts';
import { EXAMPLE_TOOLS, playgroundPrompt } from '../toolcall/prompt.ts';
import { ortBackendOf, type Completion, type GenerateReport } from '../worker/protocol.ts';
import { AdapterPicker } from './AdapterPicker.tsx';
import { Checks, CompletionBody, RawToggle } from './CompletionView.tsx';
import { NumberField, Segmented } from './fields.tsx';
import { formatBytes, formatCount, formatRate } from './format.ts';
import { LoadProgressView } from './LoadProgress.tsx';
import { InferenceCard, OnnxExportButton, backendName } from './OrtBackend.tsx';
import { engineBusy, useStudio, type SourceKind } from './store.ts';

export function PlaygroundPanel() {
  const gpu = useStudio((s) => s.gpu);
  if (gpu.status !== 'ready') {
    return (
      <section className="card muted" data-testid="playground-no-gpu">
        {gpu.status === 'connecting' ? 'Acquiring a WebGPU adapter…' : 'The playground needs WebGPU: see the GPU tab.'}
      </section>
    );
  }
  return (
    <div className="playground">
      <div className="grid">
        <ModelCard />
        <PromptCard />
      </div>
      <Completions />
    </div>
  );
}

// ---- model -----------------------------------------------------------------------------------------

const SOURCES: { value: SourceKind; label: string; testid: string }[] = [
  { value: 'embedded', label: 'Embedded tiny', testid: 'source-embedded' },
  { value: 'hub', label: 'Hugging Face', testid: 'source-hub' },
  { value: 'files', label: 'Local folder', testid: 'source-files' },
];

function ModelCard() {
  const settings = useStudio((s) => s.settings);
  const update = useStudio((s) => s.updateSettings);
  const load = useStudio((s) => s.load);
  const loadModel = useStudio((s) => s.loadModel);
  const busy = useStudio((s) => engineBusy(s) !== null);
  const hasModel = useStudio((s) => s.model !== null);
  const kind = settings.sourceKind;

  const pickFolder = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = ''; // picking the same folder again should load again
    if (files.length === 0) return;
    const folder = files[0].webkitRelativePath.split('/')[0] || 'picked folder';
    void loadModel({ kind: 'files', files }, folder);
  };

  return (
    <section className="card" data-testid="model-panel">
      <h2>Model</h2>
      <Segmented label="Model source" value={kind} options={SOURCES} onChange={(sourceKind) => update({ sourceKind })} />
      <div className="source-row">
        {kind === 'embedded' && (
          <p className="muted grow">A 2-layer model shipped with the app, warm-started on the synthetic task: it writes real tool calls, some of them right.</p>
        )}
        {kind === 'hub' && (
          <input
            className="grow mono"
            data-testid="hub-repo"
            aria-label="Hugging Face repo id"
            value={settings.hubRepo}
            spellCheck={false}
            onChange={(e) => update({ hubRepo: e.target.value })}
          />
        )}
        {kind === 'files' && (
          <p className="muted grow">
            A folder with config.json, tokenizer files and *.safetensors; nothing is uploaded anywhere.
          </p>
        )}
        {kind === 'files' ? (
          <label className={busy ? 'button primary disabled' : 'button primary'}>
            Choose folder…
            <input type="file" hidden disabled={busy} data-testid="folder-input" onChange={pickFolder} {...DIRECTORY_PICKER} />
          </label>
        ) : (
          <button
            className="primary"
            data-testid="load-model"
            disabled={busy || (kind === 'hub' && !settings.hubRepo.trim())}
            onClick={() =>
              void (kind === 'hub'
                ? loadModel({ kind: 'hub', repo: settings.hubRepo.trim() }, settings.hubRepo.trim())
                : loadModel({ kind: 'embedded' }, 'embedded tiny model'))
            }
          >
            Load
          </button>
        )}
      </div>
      {load.status === 'loading' && <LoadProgressView label={load.label} progress={load.progress} />}
      {load.status === 'failed' &&
        (load.error.code === 'cancelled' ? (
          <p className="note" data-testid="load-error" data-code="cancelled">Load cancelled.</p>
        ) : (
          <p className="summary fail" data-testid="load-error" data-code={load.error.code}>{load.error.message}</p>
        ))}
      <ModelInfoView />
      <AdapterPicker />
      <OnnxExportButton policy="loaded" disabled={!hasModel} />
      <InferenceCard />
    </section>
  );
}

// React's types do not know the directory-picker attribute, which Chromium, Firefox and Safari all support.
const DIRECTORY_PICKER = { webkitdirectory: '', multiple: true } as object;

function ModelInfoView() {
  const model = useStudio((s) => s.model);
  if (!model) return <p className="note">No model loaded.</p>;
  const rows: [string, string][] = [
    ['Model', model.label],
    ['Parameters', formatCount(model.params)],
    ['Layers × hidden', `${model.layers} × ${model.hidden}`],
    ['Heads (q / kv)', `${model.heads} / ${model.kvHeads}`],
    ['Vocabulary', model.vocab.toLocaleString('en-US')],
    ['Weights', `${model.weightDtype} matrices`],
    ['GPU memory', formatBytes(model.gpuBytes)],
    ['Context', `${model.maxPositions.toLocaleString('en-US')} positions`],
    ['Loaded in', `${(model.loadMs / 1000).toFixed(2)} s`],
  ];
  return (
    <dl className="facts" data-testid="model-info">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

// ---- prompt and sampling ---------------------------------------------------------------------------

function PromptCard() {
  const s = useStudio((st) => st.settings);
  const update = useStudio((st) => st.updateSettings);
  const running = useStudio((st) => st.generation.status === 'running');
  const busy = useStudio(engineBusy);
  const hasModel = useStudio((st) => (st.settings.backend === 'engine' ? st.model : st.ort[ortBackendOf(st.settings.backend)].info) !== null);
  const canGenerate = hasModel && busy === null;
  const generate = useStudio((st) => st.generate);
  const stop = useStudio((st) => st.stopGenerate);
  const prompt = useMemo(() => playgroundPrompt(s.question, s.tools), [s.question, s.tools]);

  const toggleTool = (name: string) =>
    update({ tools: s.tools.includes(name) ? s.tools.filter((t) => t !== name) : [...s.tools, name] });

  return (
    <section className="card" data-testid="prompt-panel">
      <h2>Question</h2>
      <div className="examples">
        {PLAYGROUND_EXAMPLES.map((ex, i) => (
          <button
            key={ex.title}
            className="chip-button"
            data-testid={`example-${i}`}
            onClick={() => update({ question: ex.question, tools: ex.tools.map((t) => toolName(t) ?? '?') })}
          >
            {ex.title}
          </button>
        ))}
      </div>
      <textarea
        data-testid="question"
        aria-label="Question"
        rows={3}
        value={s.question}
        onChange={(e) => update({ question: e.target.value })}
      />
      <h3>Tools</h3>
      <ul className="tools">
        {EXAMPLE_TOOLS.map((tool) => {
          const name = toolName(tool) ?? '?';
          return (
            <li key={name}>
              <label>
                <input type="checkbox" data-testid={`tool-${name}`} checked={s.tools.includes(name)} onChange={() => toggleTool(name)} />
                <code>{name}</code>
                <span className="muted">{String(tool.description ?? '')}</span>
              </label>
            </li>
          );
        })}
      </ul>
      <h3>Sampling</h3>
      <div className="params">
        <NumberField label="G" testid="param-n" value={s.n} min={1} max={8} step={1} onChange={(n) => update({ n })} />
        <NumberField label="max new tokens" testid="param-max-new-tokens" value={s.maxNewTokens} min={1} max={2048} step={1} onChange={(maxNewTokens) => update({ maxNewTokens })} />
        <NumberField label="temperature" testid="param-temperature" value={s.temperature} min={0} max={2} step={0.05} onChange={(temperature) => update({ temperature })} />
        <NumberField label="top-p" testid="param-top-p" value={s.topP} min={0.01} max={1} step={0.05} onChange={(topP) => update({ topP })} />
        <NumberField label="top-k (0 off)" testid="param-top-k" value={s.topK} min={0} max={1000} step={1} onChange={(topK) => update({ topK })} />
        <NumberField label="seed" testid="param-seed" value={s.seed} min={0} max={2 ** 31 - 1} step={1} onChange={(seed) => update({ seed })} />
      </div>
      <div className="actions">
        {running ? (
          <button className="danger" data-testid="stop" onClick={stop}>
            Stop
          </button>
        ) : (
          <button className="primary" data-testid="generate" disabled={!canGenerate} onClick={() => void generate()}>
            Generate {s.n} completion{s.n === 1 ? '' : 's'}
          </button>
        )}
        {!canGenerate && !running && <span className="muted">{busy ? `The engine is ${busy}: wait for it.` : s.backend === 'engine' ? 'Load a model first.' : `Load a model on ${backendName(ortBackendOf(s.backend))} first.`}</span>}
      </div>
      <details data-testid="prompt-preview">
        <summary>Prompt ({prompt.length.toLocaleString('en-US')} characters, thinking template)</summary>
        <pre className="prompt">{prompt}</pre>
      </details>
    </section>
  );
}

// ---- completions -----------------------------------------------------------------------------------

function Completions() {
  const g = useStudio((s) => s.generation);
  if (g.status === 'idle') return null;
  const cards = Array.from({ length: g.n }, (_, i) => g.completions[i] ?? null);
  const phase: Phase = g.status === 'running' ? 'running' : g.status === 'done' && !g.report.stopped ? 'done' : 'stopped';
  return (
    <section className="completions" data-testid="completions" data-status={g.status}>
      <div className="completions-head">
        <h2>Completions</h2>
        <RunStatus />
      </div>
      {g.status === 'failed' && (
        <p className="summary fail" data-testid="generate-error">
          {g.error.message}
        </p>
      )}
      <div className="completion-grid">
        {cards.map((c, i) => (
          <CompletionCard key={i} index={i} completion={c} phase={phase} />
        ))}
      </div>
    </section>
  );
}

function RunStatus() {
  const g = useStudio((s) => s.generation);
  if (g.status === 'running') {
    return (
      <span className="run-status busy" data-testid="run-status">
        {g.promptTokens === null ? 'tokenising…' : g.completions.length === 0 ? `prefilling ${g.promptTokens} prompt tokens…` : 'sampling…'}
      </span>
    );
  }
  if (g.status === 'done') return <Timings report={g.report} />;
  return null;
}

function Timings({ report: r }: { report: GenerateReport }) {
  const generated = r.completions.reduce((n, c) => n + c.tokens, 0);
  return (
    <span className="run-status" data-testid="timings">
      {r.stopped && <strong>stopped · </strong>}
      prompt {r.promptTokens} tokens · prefill <strong>{formatRate(r.prefillTokensPerSec)} tok/s</strong> ({r.prefillMs.toFixed(0)} ms) ·
      decode <strong>{formatRate(r.decodeTokensPerSec)} tok/s</strong> ({r.decodeMs.toFixed(0)} ms) · {generated} tokens sampled
      {r.gpuBytes === null ? ' · on onnxruntime-web' : ` · GPU ${formatBytes(r.gpuBytes)}`}
    </span>
  );
}

/** Where the run is: sampling, ended by itself, or cut short (stopped, or failed). */
type Phase = 'running' | 'done' | 'stopped';

const STATE_LABEL = { waiting: 'waiting', streaming: 'streaming', eos: 'ended', cut: 'max tokens', stopped: 'stopped' } as const;

function CompletionCard({ index, completion: c, phase }: { index: number; completion: Completion | null; phase: Phase }) {
  const [raw, setRaw] = useState(false);
  const streaming = phase === 'running';
  const state: keyof typeof STATE_LABEL =
    c?.finished ? 'eos' : phase === 'running' ? (c ? 'streaming' : 'waiting') : phase === 'done' ? 'cut' : 'stopped';
  return (
    <article className="card completion" data-testid="completion" data-tokens={c?.tokens ?? 0} data-state={state}>
      <header className="completion-head">
        <span className="completion-index">#{index + 1}</span>
        <span className="muted" data-testid="completion-tokens">
          {c ? `${c.tokens} token${c.tokens === 1 ? '' : 's'}` : '—'}
        </span>
        <span className={`state ${state}`}>{STATE_LABEL[state]}</span>
        {c && !streaming && <FormatChecks text={c.text} />}
        <RawToggle raw={raw} onToggle={() => setRaw(!raw)} />
      </header>
      {!c ? (
        <p className="muted">{streaming ? 'Waiting for the first token…' : 'No tokens.'}</p>
      ) : (
        <CompletionBody text={c.text} raw={raw} />
      )}
    </article>
  );
}

/** The reward's format signals (src/toolcall): think tags present, a tool_call block, its JSON a call list. */
function FormatChecks({ text }: { text: string }) {
  const parsed = parseCompletion(text, 'last');
  return (
    <Checks
      checks={[
        ['think', text.includes('<think>') && text.includes('</think>')],
        ['tool_call', parsed.blockFound],
        ['calls', parsed.calls !== null],
      ]}
    />
  );
}
