// A small line chart over training steps (uPlot on a canvas): a few series, an optional ± band, and the
// latest values in its header. Colours come from the page's CSS variables, so it follows light/dark.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { saveBlob } from './download.tsx';

export interface ChartSeries {
  label: string;
  /** a CSS variable (--accent) or a colour */
  color: string;
  /** one value per x; null where the series has none (eval steps) */
  values: (number | null)[];
  dash?: boolean;
  /** a band edge: drawn faintly, left out of the header */
  edge?: boolean;
}

export interface ChartProps {
  title: string;
  testid: string;
  x: number[];
  series: ChartSeries[];
  /** indices of the upper and lower edge series to fill between */
  band?: [number, number];
  /** y always covers at least this range (rates: [0, 1]) */
  floor?: [number, number];
  format?: (v: number) => string;
}

const HEIGHT = 120;

export function Chart({ title, testid, x, series, band, floor, format = formatValue }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [x, ...series.map((s) => s.values)] as uPlot.AlignedData;

  // Built once per chart: the series never change, only their data.
  useEffect(() => {
    const el = box.current!;
    const css = getComputedStyle(el);
    const color = (c: string) => (c.startsWith('--') ? css.getPropertyValue(c).trim() : c);
    const muted = color('--muted');
    const grid = { stroke: color('--border'), width: 1 };
    const axis = { stroke: muted, grid, ticks: { show: false }, font: '11px system-ui, sans-serif', size: 36, gap: 2 };
    const u = new uPlot(
      {
        width: el.clientWidth,
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: false },
          y: { range: (_u, min, max) => padded(min, max, floor) },
        },
        axes: [
          { ...axis, size: 22, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] },
          // As wide as its longest label.
          { ...axis, values: (_u, splits) => splits.map((v) => format(v)), size: (_u, values) => 12 + 6.5 * Math.max(2, ...(values ?? []).map((v) => v.length)) },
        ],
        series: [
          {},
          ...series.map((s): uPlot.Series => ({
            label: s.label,
            stroke: s.edge ? withAlpha(color(s.color), 0.35) : color(s.color),
            width: s.edge ? 1 : 1.75,
            dash: s.dash ? [4, 3] : undefined,
            spanGaps: true,
            // uPlot shows points while they have room; a series with gaps (evaluations) always shows them
            points: s.values.includes(null) ? { show: true, size: 5 } : { size: 5 },
          })),
        ],
        bands: band ? [{ series: [band[0] + 1, band[1] + 1], fill: withAlpha(color(series[band[0]].color), 0.14) }] : [],
      },
      data,
      el,
    );
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [series.length]); // the options are fixed per chart: only a change of shape rebuilds it

  useEffect(() => plot.current?.setData(data));

  return (
    <figure className="chart" data-testid={testid} data-points={x.length}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <button className="link chart-png" data-testid={`${testid}-png`} title="save this chart as a PNG image" onClick={() => plot.current && void savePng(plot.current, title, testid)}>
          PNG
        </button>
        {series
          .filter((s) => !s.edge)
          .map((s) => {
            const last = s.values.findLast((v) => v !== null);
            return (
              <span key={s.label} className="chart-value" style={{ color: s.color.startsWith('--') ? `var(${s.color})` : s.color }}>
                {series.length > 1 && `${s.label} `}
                {last === undefined || last === null ? '—' : format(last)}
              </span>
            );
          })}
      </figcaption>
      <div ref={box} className="chart-plot" />
    </figure>
  );
}

/** The chart's canvas under its title (and the latest values), on the page's background, as a PNG download. */
async function savePng(u: uPlot, title: string, name: string): Promise<void> {
  const plot = u.ctx.canvas;
  const css = getComputedStyle(plot);
  const dpr = plot.width / Math.max(1, plot.clientWidth);
  const head = Math.round(22 * dpr);
  const out = document.createElement('canvas');
  out.width = plot.width;
  out.height = plot.height + head;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = css.getPropertyValue('--bg').trim() || '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = css.getPropertyValue('--text').trim() || '#000';
  ctx.font = `${Math.round(13 * dpr)}px system-ui, sans-serif`;
  ctx.fillText(title, 4 * dpr, 15 * dpr);
  ctx.drawImage(plot, 0, head);
  const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, 'image/png'));
  if (blob) saveBlob(`${name}.png`, blob);
}

/** The data's range with a little air, always covering `floor`; a flat series gets a band around it. */
function padded(min: number | null, max: number | null, floor?: [number, number]): [number, number] {
  let lo = min ?? 0;
  let hi = max ?? 0;
  if (floor) [lo, hi] = [Math.min(lo, floor[0]), Math.max(hi, floor[1])];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  const pad = hi - lo > 1e-12 ? (hi - lo) * 0.08 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
  // No air below or above a floor edge the data reaches: rates stop at 0% and 100%.
  return [floor && lo === floor[0] ? lo : lo - pad, floor && hi === floor[1] && hi > lo ? hi : hi + pad];
}

/** "#2f6fde" → "rgba(47, 111, 222, a)"; other colours pass through. */
function withAlpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  return m ? `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${a})` : color;
}

export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toExponential(1);
}
