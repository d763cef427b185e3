// The Training tab: configure a GRPO run on the loaded model, start/stop/resume it, watch its metrics and
// rollouts live, and take the checkpoint or the trained weights away. All the work is in the Worker.
import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import type { DatasetFormat } from '../data/datasets.ts';
import { SYNTHETIC_LEVELS, type SyntheticLevel } from '../data/synthetic.ts';
import type { LossType } from '../train/objectives.ts';
import type { LoraTarget } from '../train/policy.ts';
import { REWARDS, type RewardName } from '../toolcall/reward.ts';
import { DownloadLink } from './download.tsx';
import { NumberField, Segmented, SelectField } from './fields.tsx';
import { formatBytes, formatCount, formatRate } from './format.ts';
import { PRESETS, REWARD_TEXT, type FormPatch } from './train-form.ts';
import type { GrpoConfig } from '../train/trainer.ts';
import { TemplateEditor, useFirstExample } from './TemplateEditor.tsx';
import type { SftConfig } from '../train/sft-trainer.ts';
import type { SftReasoning } from '../data/sft.ts';
import { methodConfig } from '../train/config.ts';
import { SftCharts, TrainingCharts } from './TrainingCharts.tsx';
import { TrainingSamples } from './TrainingSamples.tsx';
import { OnnxExportButton } from './OrtBackend.tsx';
import { StepPhase } from './TrainingProgress.tsx';
import { BenchmarkDuringTraining } from './TrainingBenchmark.tsx';
import { StepThroughCard, StepThroughStart, StepThroughToggle, startRun } from './StepThrough.tsx';
import { RunsCard } from './TrainingRuns.tsx';
import { engineBusy, useStudio } from './store.ts';

export function TrainingPanel() {
  const gpu = useStudio((s) => s.gpu);
  // Without a GPU the run stays on view: after a device loss its error and logs say what was kept.
  return (
    <>
      {gpu.status !== 'ready' && (
        <section className="card muted banner" data-testid="training-no-gpu">
          {gpu.status === 'connecting'
            ? 'Acquiring a WebGPU adapter…'
            : gpu.error.code === 'device-lost'
              ? 'The GPU device was lost: reconnect on the GPU tab, load the model again, then Resume from the saved run.'
              : 'Training needs WebGPU: see the GPU tab.'}
        </section>
      )}
      {/* The form on the left, the live run (status, charts, samples) beside it where it stays in view. */}
      <div className="training">
        <ConfigCard />
        <div className="training-live">
          <RunCard />
          <StepThroughCard />
          <ChartsCard />
          <RunsCard />
          <TrainingSamples />
        </div>
      </div>
    </>
  );
}

// ---- configuration ---------------------------------------------------------------------------------

const LORA_TARGETS: LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];
const LOSS_TYPES: { value: LossType; label: string }[] = [
  { value: 'bnpo', label: 'bnpo (token mean, verl)' },
  { value: 'grpo', label: 'grpo (per-sequence mean)' },
  { value: 'dr_grpo', label: 'dr_grpo (÷ max length)' },
  { value: 'dapo', label: 'dapo (÷ batch tokens)' },
];
const REASONING: { value: SftReasoning; label: string }[] = [
  { value: 'templated', label: 'templated (SFT with reasoning)' },
  { value: 'none', label: 'empty (SFT without reasoning)' },
];
const FORMATS: { value: DatasetFormat; label: string }[] = [
  { value: 'instance', label: 'Tool-N1 instances' },
  { value: 'xlam', label: 'xLAM function calling' },
  { value: 'toolace', label: 'ToolACE dialogues' },
];

function ConfigCard() {
  const f = useStudio((s) => s.trainForm);
  const c = f.config;
  const g = c.grpo;
  const update = useStudio((s) => s.updateTrainForm);
  const config = (patch: FormPatch['config']) => update({ config: patch });
  const grpo = (patch: FormPatch<GrpoConfig>) => update({ config: { grpo: patch } });
  const t = c.sft;
  const sft = (patch: FormPatch<SftConfig>) => update({ config: { sft: patch } });
  const busy = useStudio((s) => s.training.status === 'running');
  const [preset, setPreset] = useState(PRESETS[0].id);
  const presetNote = PRESETS.find((p) => p.id === preset)?.note;
  const example = useFirstExample(f.dataKind === 'synthetic' ? { synthetic: f.synthetic } : { file: f.file, format: f.format });

  const pickFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0] ?? null;
    e.target.value = '';
    if (file) update({ file });
  };
  const toggleTarget = (t: LoraTarget) => {
    const targets = c.lora.targets.includes(t) ? c.lora.targets.filter((x) => x !== t) : LORA_TARGETS.filter((x) => x === t || c.lora.targets.includes(x));
    if (targets.length > 0) config({ lora: { targets } });
  };

  return (
    <section className="card" data-testid="train-config">
      <h2>Configuration</h2>
      {busy && <p className="note" data-testid="train-config-locked">The settings are locked while the run runs: stop it to change them.</p>}
      {/* Locked while a run runs: what is on the form is what trains. */}
      <fieldset className="plain" disabled={busy} data-testid="train-config-fields">
      <div className="examples presets">
        {PRESETS.map((p) => (
          <button
            key={p.id}
            className={preset === p.id ? 'chip-button active' : 'chip-button'}
            data-testid={`preset-${p.id}`}
            onClick={() => {
              setPreset(p.id);
              update(p.patch);
            }}
          >
            {p.label}
          </button>
        ))}
      </div>
      {presetNote && <p className="note">{presetNote}</p>}
      <ModelLine />

      <h3>Method</h3>
      <Segmented
        label="Method"
        value={c.method}
        options={[
          { value: 'grpo', label: 'GRPO (RL)', testid: 'method-grpo' },
          { value: 'sft', label: 'SFT', testid: 'method-sft' },
        ]}
        onChange={(method) => config({ method })}
      />
      <p className="note">
        {c.method === 'grpo'
          ? 'GRPO samples G answers per prompt, scores them with the binary reward and makes the better ones likelier: no reasoning is supervised (the paper’s method).'
          : 'SFT teaches target answers token by token (cross-entropy on the completion): the paper’s baseline. Targets are the records’ completions, or rendered from their calls with the think part templated or empty.'}
      </p>

      <h3>Policy</h3>
      <Segmented
        label="Fine-tuning"
        value={c.mode}
        options={[
          { value: 'full', label: 'Full fine-tuning', testid: 'mode-full' },
          { value: 'lora', label: 'LoRA', testid: 'mode-lora' },
        ]}
        onChange={(mode) => config({ mode })}
      />
      {c.mode === 'lora' && (
        <div className="params">
          <NumberField label="rank" testid="lora-rank" value={c.lora.rank} min={1} max={256} step={1} onChange={(rank) => config({ lora: { rank } })} />
          <NumberField label="alpha" testid="lora-alpha" value={c.lora.alpha} min={0.5} max={1024} step={0.5} onChange={(alpha) => config({ lora: { alpha } })} />
          <div className="field targets">
            <span>targets</span>
            <div>
              {LORA_TARGETS.map((t) => (
                <label key={t}>
                  <input type="checkbox" checked={c.lora.targets.includes(t)} onChange={() => toggleTarget(t)} /> {t}
                </label>
              ))}
            </div>
          </div>
        </div>
      )}
      <p className="note">
        {c.mode === 'full'
          ? 'Full fine-tuning builds a second, f32 copy of the model with gradients and two AdamW moments (≈16 bytes per parameter). The Playground’s model stays loaded: it is the frozen reference for the KL term (β > 0) and keeps generating.'
          : 'LoRA trains small adapters (A, B per target) over a frozen copy of the base; the KL reference is the base with the adapters switched off. Much less GPU memory than full fine-tuning.'}
      </p>

      <h3>Data and reward</h3>
      <Segmented
        label="Prompts"
        value={f.dataKind}
        options={[
          { value: 'synthetic', label: 'Synthetic', testid: 'data-synthetic' },
          { value: 'file', label: 'Dataset file', testid: 'data-file' },
        ]}
        onChange={(dataKind) => update({ dataKind })}
      />
      {f.dataKind === 'synthetic' ? (
        <div className="params">
          <SelectField<SyntheticLevel> label="level" testid="data-level" value={f.synthetic.level} options={Object.keys(SYNTHETIC_LEVELS) as SyntheticLevel[]} onChange={(level) => update({ synthetic: { level } })} />
          <NumberField label="data seed" testid="data-seed" value={f.synthetic.seed} min={0} max={2 ** 31 - 1} step={1} onChange={(seed) => update({ synthetic: { seed } })} />
          <NumberField label="train prompts" testid="data-train-size" value={f.synthetic.train} min={1} max={100_000} step={1} onChange={(train) => update({ synthetic: { train } })} />
          <NumberField label="held-out prompts" testid="data-heldout-size" value={f.synthetic.heldout} min={1} max={10_000} step={1} onChange={(heldout) => update({ synthetic: { heldout } })} />
        </div>
      ) : (
        <div className="params">
          <div className="field file-field">
            <span>file (JSON Lines or a JSON array)</span>
            <label className={busy ? 'button secondary disabled' : 'button secondary'}>
              {f.file ? f.file.name : 'Choose file…'}
              <input type="file" hidden accept=".json,.jsonl,application/json" data-testid="data-file-input" onChange={pickFile} />
            </label>
          </div>
          <SelectField<DatasetFormat> label="format" testid="data-format" value={f.format} options={FORMATS} onChange={(format) => update({ format })} />
          <NumberField label="held-out fraction" testid="data-heldout-fraction" value={f.heldoutFraction} min={0} max={0.9} step={0.05} onChange={(heldoutFraction) => update({ heldoutFraction })} />
        </div>
      )}
      <div className="params">
        <SelectField<RewardName>
          label="reward"
          testid="reward"
          value={c.reward}
          options={Object.keys(REWARDS) as RewardName[]}
          title={REWARD_TEXT[c.reward]}
          onChange={(reward) => config({ reward })}
        />
        <NumberField label="max prompt tokens" testid="max-prompt-tokens" value={c.maxPromptTokens} min={16} max={32768} step={1} title="longer prompts are dropped" onChange={(maxPromptTokens) => config({ maxPromptTokens })} />
      </div>
      <p className="note">Reward: {REWARD_TEXT[c.reward]}.</p>

      <h3>Prompt template</h3>
      <TemplateEditor value={c.template} onChange={(template) => config({ template })} example={example} disabled={busy} />

      {c.method === 'grpo' ? (
        <>
          <h3>GRPO</h3>
          <div className="params">
            <NumberField label="steps" testid="steps" value={g.steps} min={1} max={100_000} step={1} onChange={(steps) => grpo({ steps })} />
            <NumberField label="prompts / step" testid="prompts-per-step" value={g.promptsPerStep} min={1} max={1024} step={1} onChange={(promptsPerStep) => grpo({ promptsPerStep })} />
            <NumberField label="G (per prompt)" testid="group-size" value={g.groupSize} min={2} max={64} step={1} onChange={(groupSize) => grpo({ groupSize })} />
            <NumberField label="max new tokens" testid="max-new-tokens" value={g.maxNewTokens} min={1} max={8192} step={1} onChange={(maxNewTokens) => grpo({ maxNewTokens, objective: { maxCompletionLength: maxNewTokens } })} />
            <NumberField label="temperature" testid="temperature" value={g.temperature} min={0.05} max={2} step={0.05} onChange={(temperature) => grpo({ temperature })} />
            <NumberField label="learning rate" testid="lr" value={g.schedule.lr} min={0} max={1} step={1e-6} onChange={(lr) => grpo({ schedule: { lr } })} />
            <NumberField label="β (KL)" testid="beta" value={g.objective.beta} min={0} max={10} step={0.001} onChange={(beta) => grpo({ objective: { beta } })} />
            <NumberField label="ε low" testid="epsilon-low" value={g.objective.epsilonLow} min={0} max={1} step={0.01} onChange={(epsilonLow) => grpo({ objective: { epsilonLow } })} />
            <NumberField label="ε high" testid="epsilon-high" value={g.objective.epsilonHigh} min={0} max={1} step={0.01} onChange={(epsilonHigh) => grpo({ objective: { epsilonHigh } })} />
            <SelectField<LossType> label="loss" testid="loss-type" value={g.objective.lossType} options={LOSS_TYPES} onChange={(lossType) => grpo({ objective: { lossType } })} />
            <NumberField label="μ (passes)" testid="iterations" value={g.iterations} min={1} max={16} step={1} onChange={(iterations) => grpo({ iterations })} />
            <NumberField label="mini-batches" testid="mini-batches" value={g.miniBatches} min={1} max={g.promptsPerStep} step={1} title="optimizer steps per pass, each over whole groups (the paper's verl: 4)" onChange={(miniBatches) => grpo({ miniBatches })} />
            <NumberField label="micro-batch" testid="micro-batch" value={g.microBatch} min={1} max={1024} step={1} onChange={(microBatch) => grpo({ microBatch })} />
            <NumberField label="eval every (0 off)" testid="eval-every" value={g.evalEvery} min={0} max={10_000} step={1} onChange={(evalEvery) => grpo({ evalEvery })} />
            <NumberField label="eval prompts" testid="eval-size" value={g.evalSize} min={1} max={10_000} step={1} onChange={(evalSize) => grpo({ evalSize })} />
            <NumberField label="checkpoint every" testid="checkpoint-every" value={g.checkpointEvery} min={0} max={10_000} step={1} title="0: only when stopped or done" onChange={(checkpointEvery) => grpo({ checkpointEvery })} />
            <NumberField label="seed" testid="seed" value={g.seed} min={0} max={2 ** 31 - 1} step={1} onChange={(seed) => grpo({ seed })} />
          </div>
        </>
      ) : (
        <>
          <h3>SFT</h3>
          <div className="params">
            <NumberField label="steps" testid="sft-steps" value={t.steps} min={1} max={100_000} step={1} onChange={(steps) => sft({ steps })} />
            <NumberField label="batch (pairs / step)" testid="sft-batch-size" value={t.batchSize} min={1} max={1024} step={1} onChange={(batchSize) => sft({ batchSize })} />
            <NumberField label="micro-batch" testid="sft-micro-batch" value={t.microBatch} min={1} max={1024} step={1} onChange={(microBatch) => sft({ microBatch })} />
            <NumberField label="learning rate" testid="sft-lr" value={t.schedule.lr} min={0} max={1} step={1e-6} onChange={(lr) => sft({ schedule: { lr } })} />
            <SelectField<SftReasoning> label="think part" testid="sft-reasoning" value={t.reasoning} options={REASONING} onChange={(reasoning) => sft({ reasoning })} />
            <NumberField label="eval max new tokens" testid="sft-max-new-tokens" value={t.maxNewTokens} min={1} max={8192} step={1} onChange={(maxNewTokens) => sft({ maxNewTokens })} />
            <NumberField label="eval every (0 off)" testid="sft-eval-every" value={t.evalEvery} min={0} max={10_000} step={1} onChange={(evalEvery) => sft({ evalEvery })} />
            <NumberField label="eval prompts" testid="sft-eval-size" value={t.evalSize} min={1} max={10_000} step={1} onChange={(evalSize) => sft({ evalSize })} />
            <NumberField label="checkpoint every" testid="sft-checkpoint-every" value={t.checkpointEvery} min={0} max={10_000} step={1} title="0: only when stopped or done" onChange={(checkpointEvery) => sft({ checkpointEvery })} />
            <NumberField label="seed" testid="sft-seed" value={t.seed} min={0} max={2 ** 31 - 1} step={1} onChange={(seed) => sft({ seed })} />
          </div>
        </>
      )}
      <h3>Benchmark during training</h3>
      <BenchmarkDuringTraining />
      </fieldset>
      <TrainActions />
    </section>
  );
}

function ModelLine() {
  const model = useStudio((s) => s.model);
  const loading = useStudio((s) => s.load.status === 'loading');
  const loadModel = useStudio((s) => s.loadModel);
  if (model) {
    return (
      <p className="model-line" data-testid="train-model">
        Trains <strong>{model.label}</strong> · {formatCount(model.params)} parameters · {model.layers} layers × {model.hidden}
      </p>
    );
  }
  return (
    <div className="model-line">
      <span className="muted">No model loaded: choose one on the Playground tab, or</span>
      <button className="secondary" data-testid="train-load-embedded" disabled={loading} onClick={() => void loadModel({ kind: 'embedded' }, 'embedded tiny model')}>
        {loading ? 'Loading…' : 'Load the embedded tiny model'}
      </button>
    </div>
  );
}

function TrainActions() {
  const t = useStudio((s) => s.training);
  const model = useStudio((s) => s.model);
  const checkpoint = useStudio((s) => s.checkpoint);
  const form = useStudio((s) => s.trainForm.config);
  const steps = checkpoint ? form[checkpoint.method].steps : 0;
  const busy = useStudio(engineBusy);
  const { stopTraining, resumeTraining, continueWithGrpo } = useStudio.getState();
  const sftDone = t.status === 'done' && t.start?.config.method === 'sft';
  const canResume = busy === null && checkpoint !== null && model?.label === checkpoint.model && steps > checkpoint.step;
  if (t.status === 'running') {
    return (
      <div className="actions">
        <button className="danger" data-testid="train-stop" disabled={t.stopping} onClick={stopTraining}>
          {t.stopping ? 'Stopping after this step…' : 'Stop'}
        </button>
        {t.start?.config.method === 'grpo' && <StepThroughToggle />}
        <span className="muted">Stop finishes the current step, then saves a checkpoint.</span>
      </div>
    );
  }
  return (
    <div className="actions">
      <button className="primary" data-testid="train-start" disabled={!model || busy !== null} onClick={() => void startRun(false)}>
        Start training
      </button>
      <StepThroughStart />
      <button
        className="secondary"
        data-testid="train-resume"
        disabled={!canResume}
        title={checkpoint ? `continue the saved run from step ${checkpoint.step} up to ${steps} steps` : 'no saved run'}
        onClick={() => void resumeTraining()}
      >
        Resume{checkpoint ? ` from step ${checkpoint.step}` : ''}
      </button>
      {sftDone && (
        <button
          className="secondary"
          data-testid="train-continue-grpo"
          disabled={busy !== null}
          title="a GRPO run with the GRPO settings above, starting from the SFT run's trained policy (SFT → RL)"
          onClick={() => void continueWithGrpo()}
        >
          Continue with GRPO
        </button>
      )}
      {busy ? <span className="muted">The engine is {busy}: wait for it.</span> : checkpoint && <span className="muted">A new run replaces the saved one once it has written its first checkpoint.</span>}
    </div>
  );
}

// ---- the run ---------------------------------------------------------------------------------------

const STATUS_TEXT = { idle: 'not started', running: 'running', done: 'done', stopped: 'stopped', failed: 'failed' } as const;

function RunCard() {
  const t = useStudio((s) => s.training);
  const sftRun = t.start?.config.method === 'sft';
  const last = t.steps[t.steps.length - 1];
  const lastSft = t.sftSteps[t.sftSteps.length - 1];
  const lastEval = (sftRun ? t.sftEvals : t.evals).at(-1);
  const total = t.start ? methodConfig(t.start.config).steps : 0;
  const done = (sftRun ? lastSft?.step : last?.step) ?? t.start?.resumedFrom ?? 0;
  return (
    <section className="card" data-testid="train-run" data-status={t.status}>
      <div className="card-head">
        <h2>Run</h2>
        <span className={`state ${t.status === 'running' ? 'streaming' : t.status === 'done' ? 'eos' : ''}`} data-testid="train-status">
          {t.stopping ? 'stopping' : STATUS_TEXT[t.status]}
        </span>
      </div>
      {t.start ? (
        <>
          <div className="progress-head">
            <span data-testid="train-progress">
              step <strong>{done}</strong> of {total}
              {t.status === 'running' && !sftRun && last && ` · ${((last.rolloutMs + last.scoringMs + last.updateMs) / 1000).toFixed(1)} s per step`}
              {t.status === 'running' && sftRun && lastSft && ` · ${(lastSft.updateMs / 1000).toFixed(1)} s per step`}
            </span>
          </div>
          <div className={t.status === 'running' && done === (t.start.resumedFrom ?? 0) ? 'bar indeterminate' : 'bar'}>
            <div style={{ width: `${total ? (100 * done) / total : 0}%` }} />
          </div>
          <StepPhase view={t} total={total} />
          <dl className="facts compact">
            <div>
              <dt>Model</dt>
              <dd>
                {t.start.config.method === 'sft' ? 'SFT' : 'GRPO'} · {t.start.model} · {t.start.mode === 'full' ? 'full fine-tuning' : `LoRA r ${t.start.config.lora?.rank}`}
              </dd>
            </div>
            <div>
              <dt>Data</dt>
              <dd>
                {t.start.data} · {t.start.trainPrompts.toLocaleString('en-US')} train / {t.start.heldoutPrompts.toLocaleString('en-US')} held-out
              </dd>
            </div>
            <div>
              <dt>GPU memory</dt>
              <dd>{formatBytes(t.start.gpuBytes)} with the policy up</dd>
            </div>
            {sftRun && lastSft && (
              <div>
                <dt>Last step</dt>
                <dd data-testid="train-last-step">
                  loss {lastSft.loss.toFixed(3)} · token accuracy {(lastSft.tokenAccuracy * 100).toFixed(0)}% · {formatRate(lastSft.tokensPerSec)} tok/s
                  {lastEval && ` · held-out ${lastEval.meanReward.toFixed(2)} (step ${lastEval.step})`}
                </dd>
              </div>
            )}
            {!sftRun && last && (
              <div>
                <dt>Last step</dt>
                <dd data-testid="train-last-step">
                  reward {last.rewardMean.toFixed(2)} ± {last.rewardStd.toFixed(2)} · {formatRate(last.tokensPerSec)} tok/s
                  {lastEval && ` · held-out ${lastEval.meanReward.toFixed(2)} (step ${lastEval.step})`}
                </dd>
              </div>
            )}
          </dl>
        </>
      ) : (
        <p className="muted" data-testid={t.status === 'running' ? 'train-phase' : undefined}>{t.status === 'running' ? 'Preparing the prompts and the policy…' : 'No run yet in this session.'}</p>
      )}
      {t.error && (
        <p className="summary fail" data-testid="train-error" data-code={t.error.code}>
          {t.error.message}
        </p>
      )}
      <SavedRun />
      <Console />
    </section>
  );
}

function SavedRun() {
  const checkpoint = useStudio((s) => s.checkpoint);
  const exported = useStudio((s) => s.exported);
  const running = useStudio((s) => s.training.status === 'running');
  const model = useStudio((s) => s.model);
  const { downloadCheckpoint, exportModel, exportRun } = useStudio.getState();
  const cannotExport = running || exported.status === 'running' || model?.label !== checkpoint?.model;
  if (!checkpoint) return <p className="note">Checkpoints are saved in this browser’s private storage (OPFS) as the run goes and when it stops.</p>;
  return (
    <div className="saved-run" data-testid="saved-run">
      <h3>Saved run</h3>
      <p data-testid="checkpoint-info">
        step <strong>{checkpoint.step}</strong> of {checkpoint.steps} · {checkpoint.mode === 'full' ? 'full' : 'LoRA'} · {checkpoint.model} ·{' '}
        {formatBytes(checkpoint.bytes)} · {new Date(checkpoint.savedAt).toLocaleTimeString()}
      </p>
      <div className="actions">
        <button className="secondary" data-testid="download-checkpoint" onClick={() => void downloadCheckpoint()}>
          Download checkpoint
        </button>
        <button
          className="secondary"
          data-testid="export-model"
          disabled={cannotExport}
          onClick={() => void exportModel()}
        >
          {exported.status === 'running' ? 'Exporting…' : checkpoint.mode === 'lora' ? 'Export PEFT adapter' : 'Export merged weights'}
        </button>
        {(['verl', 'trl'] as const).map((engine) => (
          <button
            key={engine}
            className="secondary"
            data-testid={`handover-${engine}`}
            title={`The run for ${engine === 'verl' ? 'verl' : 'TRL'}: its prompts, reward module, launch script, settings table and merged policy, as one tar`}
            disabled={cannotExport}
            onClick={() => void exportRun(engine)}
          >
            Hand over to {engine === 'verl' ? 'verl' : 'TRL'}
          </button>
        ))}
      </div>
      <OnnxExportButton policy="trained" disabled={cannotExport} />
      {exported.status === 'done' && (
        <p className="downloads" data-testid="export-files">
          {exported.files.map((f) => (
            <DownloadLink key={f.name} name={f.name} blob={f.blob}>
              {f.name} <span className="muted">({formatBytes(f.blob.size)})</span>
            </DownloadLink>
          ))}
        </p>
      )}
      {exported.status === 'failed' && <p className="summary fail">{exported.error.message}</p>}
    </div>
  );
}

function Console() {
  const logs = useStudio((s) => s.training.logs);
  const box = useRef<HTMLDivElement>(null);
  // Keep the newest line in view, as a terminal does.
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [logs]);
  if (logs.length === 0) return null;
  return (
    <div className="console" data-testid="train-console" role="log" ref={box}>
      {logs.map((l, i) => (
        <div key={i} className={`log ${l.level}`}>
          <span className="muted">{new Date(l.at).toLocaleTimeString()}</span> {l.message}
        </div>
      ))}
    </div>
  );
}

function ChartsCard() {
  const t = useStudio((s) => s.training);
  if (!t.start) return null;
  const grpo = t.start.config.method === 'grpo';
  return (
    <section className="card" data-testid="train-charts-card">
      <h2>Metrics</h2>
      {t.sftSteps.length > 0 && (
        <>
          {grpo && <h3>SFT (the run this GRPO run continues)</h3>}
          <SftCharts steps={t.sftSteps} evals={t.sftEvals} benches={grpo ? [] : t.benches} />
          {grpo && <h3>GRPO</h3>}
        </>
      )}
      {(grpo || t.sftSteps.length === 0) && <TrainingCharts steps={t.steps} evals={t.evals} benches={t.benches} />}
    </section>
  );
}
