// uPlot behind a Preact component: built once per mount, fed new data with setData, resized
// with its container, recoloured by the theme's CSS variables.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const PALETTE = ['--series-1', '--series-2', '--series-3', '--series-4'];

/** data: [xs (seconds), ...ys]; series: labels of ys. */
export function Chart({ title, data, series, height = 220, yLabel }) {
  const box = useRef(null);
  const plot = useRef(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const width = Math.max(280, el.clientWidth);
    const axis = { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--border') }, ticks: { stroke: cssVar('--border') } };
    plot.current = new uPlot(
      {
        title,
        width,
        height,
        series: [{}, ...series.map((label, i) => ({ label, stroke: cssVar(PALETTE[i % PALETTE.length]), width: 2 }))],
        axes: [axis, { ...axis, label: yLabel }],
        // At least a minute of time axis, so the first samples do not stretch over years.
        scales: { x: { time: true, range: (u, min, max) => [Math.min(min ?? Date.now() / 1000, (max ?? Date.now() / 1000) - 60), max ?? Date.now() / 1000] } },
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.current && plot.current.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current.destroy();
      plot.current = null;
    };
  }, [series.join('\u0000'), document.documentElement.dataset.theme]);

  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);

  return html`<figure class="chart" ref=${box} aria-label=${title}></figure>`;
}
