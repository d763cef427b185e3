// The Training form's "benchmark during training": a subset of BFCL (categories), API-Bank (a level) or the
// synthetic held-out split, evaluated greedily with the policy every N steps and charted beside the reward.
// BFCL and API-Bank read the Benchmarks tab's files or URL; the config's `benchmark` is the CLI's.
import { SYNTHETIC_LEVELS, type SyntheticLevel } from '../data/synthetic.ts';
import type { Bench } from '../eval/suites.ts';
import type { BenchmarkSetting } from '../train/config.ts';
import { BFCL_CATEGORIES } from '../toolcall/bfcl.ts';
import { NumberField, SelectField } from './fields.tsx';
import { useStudio } from './store.ts';

type Choice = 'off' | Bench;
const CHOICES: { value: Choice; label: string }[] = [
  { value: 'off', label: 'off' },
  { value: 'synthetic', label: 'synthetic held-out split' },
  { value: 'bfcl', label: 'BFCL v3 categories' },
  { value: 'apibank', label: 'API-Bank level' },
];

/** What a fresh choice starts with: a small subset, every 10 steps, the run's answer budget. */
function initial(bench: Bench, maxNewTokens: number): BenchmarkSetting {
  const categories = bench === 'bfcl' ? ['simple'] : bench === 'apibank' ? ['level-1'] : null;
  return { bench, data: bench === 'synthetic' ? 'tiny:0' : '', categories, limit: 8, every: 10, maxNewTokens };
}

export function BenchmarkDuringTraining() {
  const c = useStudio((s) => s.trainForm.config);
  const source = useStudio((s) => (s.benchForm.from === 'url' ? s.benchForm.url.trim() || null : s.benchForm.files.length > 0 ? `${s.benchForm.files.length} files` : null));
  const update = useStudio((s) => s.updateTrainForm);
  const b = c.benchmark;
  const set = (patch: Partial<BenchmarkSetting>) => update({ config: { benchmark: { ...b!, ...patch } } });
  const maxNewTokens = c.method === 'sft' ? c.sft.maxNewTokens : c.grpo.maxNewTokens;
  const [level, seed] = (b?.bench === 'synthetic' ? b.data : 'tiny:0').split(':');
  return (
    <>
      <div className="params">
        <SelectField<Choice>
          label="benchmark"
          testid="train-bench"
          value={b?.bench ?? 'off'}
          options={CHOICES}
          onChange={(v) => update({ config: { benchmark: v === 'off' ? null : initial(v, maxNewTokens) } })}
        />
        {b && (
          <>
            <NumberField label="every (steps)" testid="train-bench-every" value={b.every} min={1} max={10_000} step={1} onChange={(every) => set({ every })} />
            <NumberField label="per category" testid="train-bench-limit" value={b.limit} min={1} max={10_000} step={1} onChange={(limit) => set({ limit })} />
            <NumberField label="max new tokens" testid="train-bench-max-new-tokens" value={b.maxNewTokens} min={1} max={8192} step={1} onChange={(n) => set({ maxNewTokens: n })} />
          </>
        )}
        {b?.bench === 'synthetic' && (
          <>
            <SelectField<SyntheticLevel> label="level" testid="train-bench-level" value={level as SyntheticLevel} options={Object.keys(SYNTHETIC_LEVELS) as SyntheticLevel[]} onChange={(l) => set({ data: `${l}:${seed}` })} />
            <NumberField label="seed" testid="train-bench-seed" value={Number(seed)} min={0} max={2 ** 31 - 1} step={1} onChange={(s) => set({ data: `${level}:${s}` })} />
          </>
        )}
        {b?.bench === 'bfcl' && (
          <label className="field wide-field">
            <span>categories (comma-separated)</span>
            <input
              data-testid="train-bench-categories"
              list="bfcl-categories"
              value={(b.categories ?? []).join(', ')}
              onChange={(e) => {
                const categories = e.target.value.split(',').map((x) => x.trim()).filter(Boolean);
                set({ categories: categories.length ? categories : null });
              }}
            />
            <datalist id="bfcl-categories">
              {BFCL_CATEGORIES.map((k) => (
                <option key={k} value={k} />
              ))}
            </datalist>
          </label>
        )}
        {b?.bench === 'apibank' && (
          <SelectField label="level" testid="train-bench-apibank-level" value={b.categories?.[0] ?? 'level-1'} options={['level-1', 'level-2']} onChange={(l) => set({ categories: [l] })} />
        )}
      </div>
      {b && (
        <p className="note" data-testid="train-bench-note">
          {b.bench === 'synthetic'
            ? 'Greedy with the trained policy and the run’s template, every N steps, beside the reward: tools and wordings training does not see.'
            : source
              ? `Reads the Benchmarks tab’s data (${source}); greedy with the trained policy and the run’s template, every N steps.`
              : 'Pick the benchmark’s files (or give its URL) on the Benchmarks tab first: this setting reads them.'}
        </p>
      )}
    </>
  );
}
