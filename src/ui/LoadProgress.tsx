// Progress of a model load (the engine's or onnxruntime-web's), shared by the Playground's model panels.
import type { LoadProgress } from '../worker/protocol.ts';
import { formatBytes } from './format.ts';
import { useStudio } from './store.ts';

/** A download or read with its file and amount, and Cancel (which aborts the Worker's running load). */
export function LoadProgressView({ label, progress, testid = 'load-progress' }: { label: string; progress: LoadProgress | null; testid?: string }) {
  const cancel = useStudio((s) => s.cancelLoad);
  const fraction = progress?.total ? progress.loaded / progress.total : null;
  const amount = (n: number) => (progress?.unit === 'pipelines' ? String(n) : formatBytes(n));
  return (
    <div className="load-progress" data-testid={testid}>
      <div className="progress-head">
        <span>
          Loading <strong>{label}</strong>
          {progress && (
            <>
              {' · '}
              <code>{progress.file}</code> {amount(progress.loaded)}
              {progress.total !== undefined && ` of ${amount(progress.total)}`}
            </>
          )}
        </span>
        <button className="secondary" data-testid="load-cancel" onClick={cancel}>
          Cancel
        </button>
      </div>
      <div className={fraction === null ? 'bar indeterminate' : 'bar'}>
        <div style={fraction === null ? undefined : { width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
    </div>
  );
}
