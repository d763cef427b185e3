// The studio page: a header, a tab bar and the active panel. Panels read the zustand store only.
import { useState } from 'react';
import type { GpuInfo } from '../gpu/device.ts';
import type { EngineError } from '../worker/protocol.ts';
import { formatBytes } from './format.ts';
import { BenchmarksPanel } from './Benchmarks.tsx';
import { PlaygroundPanel } from './Playground.tsx';
import { CrossCheckCard } from './OrtBackend.tsx';
import { useStudio } from './store.ts';
import { TrainingPanel } from './Training.tsx';

// One entry per panel.
const TABS = [
  { id: 'gpu', label: 'GPU', Panel: GpuPanel },
  { id: 'playground', label: 'Playground', Panel: PlaygroundPanel },
  { id: 'training', label: 'Training', Panel: TrainingPanel },
  { id: 'benchmarks', label: 'Benchmarks', Panel: BenchmarksPanel },
] as const;

type TabId = (typeof TABS)[number]['id'];

export function App() {
  const [tab, setTab] = useState<TabId>('gpu');
  const active = TABS.find((t) => t.id === tab) ?? TABS[0];
  return (
    <div className="app">
      <header className="header">
        <div>
          <h1>Tool-N1 Studio</h1>
          <p className="tagline">GRPO for tool-calling Qwen2.5, on WebGPU in your browser</p>
        </div>
        <GpuBadge />
      </header>
      <nav className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            aria-selected={t.id === tab}
            className={t.id === tab ? 'tab active' : 'tab'}
            data-testid={`tab-${t.id}`}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </nav>
      <main className="panel" role="tabpanel">
        <active.Panel />
      </main>
    </div>
  );
}

// The GPU's own failures; anything else reads as an engine error.
const BADGE_ERROR: Partial<Record<EngineError['code'], string>> = {
  'no-webgpu': 'no WebGPU',
  'no-adapter': 'no GPU adapter',
  'device-lost': 'GPU lost',
  'not-initialized': 'GPU not ready',
};

function GpuBadge() {
  const gpu = useStudio((s) => s.gpu);
  const [cls, text] =
    gpu.status === 'ready'
      ? ['ok', `${gpu.info.vendor || 'GPU'} · ${gpu.info.architecture || gpu.info.description || 'ready'}`]
      : gpu.status === 'connecting'
        ? ['busy', 'connecting to GPU…']
        : ['bad', BADGE_ERROR[gpu.error.code] ?? 'engine error'];
  return (
    <span className={`badge ${cls}`} data-testid="gpu-status" data-status={gpu.status}>
      {text}
    </span>
  );
}

// ---- GPU panel -------------------------------------------------------------------------------------

function GpuPanel() {
  const gpu = useStudio((s) => s.gpu);
  if (gpu.status === 'connecting') return <section className="card muted">Acquiring a WebGPU adapter…</section>;
  if (gpu.status === 'failed') return <GpuUnavailable error={gpu.error} />;
  return (
    <div className="grid">
      <AdapterCard info={gpu.info} />
      <SelftestCard />
      <CrossCheckCard />
    </div>
  );
}

const KEY_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
] as const;

function AdapterCard({ info }: { info: GpuInfo }) {
  const rows: [string, string, string][] = [
    ['Vendor', info.vendor, 'gpu-vendor'],
    ['Architecture', info.architecture, 'gpu-architecture'],
    ['Device', info.device, 'gpu-device'],
    ['Description', info.description, 'gpu-description'],
  ];
  return (
    <section className="card" data-testid="adapter-panel">
      <h2>Adapter</h2>
      <dl className="facts">
        {rows.map(([label, value, testid]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd data-testid={testid}>{value || <span className="muted">not reported</span>}</dd>
          </div>
        ))}
      </dl>
      <h3>Features</h3>
      <ul className="chips" data-testid="gpu-features">
        {info.features.map((f) => (
          <li key={f}>{f}</li>
        ))}
      </ul>
      {!info.f16 && <p className="note">No shader-f16: every kernel runs its f32 path.</p>}
      <h3>Key limits</h3>
      <table className="limits">
        <tbody>
          {KEY_LIMITS.map((name) => (
            <tr key={name}>
              <th>{name}</th>
              <td data-testid={`gpu-limit-${name}`}>{formatLimit(name, info.limits[name])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details>
        <summary>All {Object.keys(info.limits).length} limits</summary>
        <table className="limits">
          <tbody>
            {Object.entries(info.limits)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, v]) => (
                <tr key={name}>
                  <th>{name}</th>
                  <td>{formatLimit(name, v)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function formatLimit(name: string, v: number | undefined): string {
  if (v === undefined) return '—';
  const n = v.toLocaleString('en-US');
  if (!/Size$/.test(name) || v < 1024) return n;
  return `${formatBytes(v)} (${n})`;
}

function SelftestCard() {
  const st = useStudio((s) => s.selftest);
  const run = useStudio((s) => s.runSelftest);
  const cases = st.status === 'idle' ? [] : st.cases;
  return (
    <section className="card" data-testid="selftest-panel">
      <div className="card-head">
        <h2>Self-test</h2>
        <button className="primary" data-testid="selftest-run" disabled={st.status === 'running'} onClick={() => void run()}>
          {st.status === 'running' ? 'Running…' : 'Run GPU self-test'}
        </button>
      </div>
      <p className="muted">
        Matmul C = A·Bᵀ (+ bias) on ragged shapes, on the GPU, against the TypeScript reference (f64 sums).
        Times include compiling each kernel variant on its first run.
      </p>
      {cases.length > 0 && (
        <table className="cases">
          <thead>
            <tr>
              <th>M×N×K</th>
              <th className="num">max rel. error</th>
              <th className="num">time</th>
              <th>result</th>
            </tr>
          </thead>
          <tbody>
            {cases.map((c) => (
              <tr key={c.name} data-testid="selftest-case" data-pass={c.pass}>
                <td>{c.name}</td>
                <td className="num" title={`tolerance ${c.tolerance}`}>
                  {c.maxRelError.toExponential(2)}
                </td>
                <td className="num">{c.ms.toFixed(1)} ms</td>
                <td>
                  <span className={c.pass ? 'verdict pass' : 'verdict fail'}>{c.pass ? 'PASS' : 'FAIL'}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {st.status === 'done' && (
        <p className={st.report.pass ? 'summary pass' : 'summary fail'} data-testid="selftest-summary" data-status={st.report.pass ? 'pass' : 'fail'}>
          {st.report.pass ? 'PASS' : 'FAIL'}: {st.report.cases.filter((c) => c.pass).length}/{st.report.cases.length} cases in{' '}
          {st.report.ms.toFixed(0)} ms
        </p>
      )}
      {st.status === 'failed' && (
        <p className="summary fail" data-testid="selftest-summary" data-status="error">
          Self-test could not run: {st.error.message}
        </p>
      )}
    </section>
  );
}

// ---- no WebGPU -------------------------------------------------------------------------------------

function GpuUnavailable({ error }: { error: EngineError }) {
  const connect = useStudio((s) => s.connect);
  if (error.code !== 'no-webgpu' && error.code !== 'no-adapter') {
    return (
      <section className="card error" data-testid="gpu-error" data-code={error.code}>
        <h2>{error.code === 'device-lost' ? 'The GPU device was lost' : 'The GPU engine failed'}</h2>
        <p>{error.message}</p>
        <button className="primary" onClick={() => void connect()}>
          Reconnect
        </button>
      </section>
    );
  }
  return (
    <section className="card error" data-testid="gpu-error" data-code={error.code}>
      <h2>{error.code === 'no-webgpu' ? 'This browser does not expose WebGPU' : 'WebGPU found no GPU adapter'}</h2>
      <p>{error.message}</p>
      {!window.isSecureContext && (
        <p>
          <strong>This page is not a secure context</strong> ({location.origin}): WebGPU exists only on https:// or
          http://localhost / http://127.0.0.1.
        </p>
      )}
      <h3>How to enable WebGPU</h3>
      <ul className="help">
        <li>Use Chrome or Edge 113 or newer (desktop), with hardware acceleration on.</li>
        <li>
          If it is still missing, enable <code>chrome://flags/#enable-unsafe-webgpu</code> and restart the browser.
        </li>
        <li>
          On Linux start the browser with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>.
        </li>
        <li>
          Serve the studio over <code>http://localhost</code>, <code>http://127.0.0.1</code> or https (
          <code>npm start</code> does).
        </li>
      </ul>
    </section>
  );
}
