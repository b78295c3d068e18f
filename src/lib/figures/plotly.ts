/**
 * Figures as plotly.js JSON (`{data, layout}`) for interactive views in JupyterLab and VS Code, styled
 * like their vega-lite twins (same font, palette, axis types).
 *
 * Deviation: plotly has no logarithmic colour scale, so log-coloured heatmaps plot log₁₀ of the values
 * (and say so on the colour bar).
 */
import { drawable, integerStep, shownTitle, type Axis, type BarFigure, type Figure, type HeatmapFigure, type LineFigure } from './figure';
import { FONT, SIZE } from './vegalite';

/** The MIME type front ends render with plotly.js. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** vega's `tableau10`, the vega-lite theme's category scheme. */
export const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'] as const;
const DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash'] as const;

export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** `max`: the largest value on an integer axis, whose ticks are then whole numbers a step apart (never `1 2 2 3`). */
function axis(a: Axis, max = 0): Record<string, unknown> {
  const ticks = a.integer && !a.log ? { tickformat: 'd', tick0: 0, dtick: integerStep(max) } : {};
  return { title: { text: a.title }, type: a.log ? 'log' : 'linear', gridcolor: '#e8e8e8', zeroline: false, exponentformat: 'power', automargin: true, ...ticks };
}

function baseLayout(title: string): Record<string, unknown> {
  return {
    title: { text: title, x: 0.02, xanchor: 'left', font: { size: 15 } },
    font: { family: FONT, size: 12 },
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    // Room above the title for plotly's tool bar.
    margin: { l: 70, r: 30, t: 70, b: 55 },
  };
}

/** Index of `key` in first-appearance order, for stable colour/dash assignment. */
function indexer(keys: string[]): (key: string) => number {
  const order = [...new Set(keys)];
  return (key) => order.indexOf(key);
}

function lineFigure(fig: LineFigure): PlotlyFigure {
  const colorOf = indexer(fig.series.map((s) => s.color ?? s.name));
  const dashOf = indexer(fig.series.map((s) => s.dash ?? ''));
  const data: Record<string, unknown>[] = fig.series.map((s) => {
    const color = PALETTE[colorOf(s.color ?? s.name) % PALETTE.length];
    const keep = s.x.map((x, i) => drawable(x, fig.x.log) && drawable(s.y[i]!, fig.y.log));
    return {
      type: 'scatter',
      mode: fig.points ? 'markers' : 'lines',
      name: s.name,
      x: s.x.filter((_, i) => keep[i]),
      y: s.y.filter((_, i) => keep[i]),
      line: { color, width: 1.8, dash: DASHES[dashOf(s.dash ?? '') % DASHES.length] },
      marker: { color, size: 6, opacity: 0.75, symbol: dashOf(s.dash ?? '') },
    };
  });
  if (fig.diagonal) {
    const all = fig.series.flatMap((s) => [...s.x, ...s.y]).filter((v) => drawable(v, fig.x.log || fig.y.log));
    const ends = [Math.min(...all), Math.max(...all)];
    data.unshift({ type: 'scatter', mode: 'lines', x: ends, y: ends, showlegend: false, hoverinfo: 'skip', line: { color: '#999', dash: 'dash', width: 1 } });
  }
  return {
    data,
    layout: {
      ...baseLayout(shownTitle(fig)),
      width: SIZE.width + 260,
      height: SIZE.height + 120,
      xaxis: axis(fig.x, Math.max(0, ...fig.series.flatMap((s) => s.x.filter(Number.isFinite)))),
      yaxis: axis(fig.y, Math.max(0, ...fig.series.flatMap((s) => s.y.filter(Number.isFinite)))),
      legend: fig.legend ? { title: { text: fig.legend } } : {},
    },
  };
}

function heatmapFigure(fig: HeatmapFigure): PlotlyFigure {
  const n = fig.panels.length;
  const colorTitle = fig.color.log ? `log₁₀ ${fig.color.title}` : fig.color.title;
  // Each panel takes a slot of the width; with a colour bar per panel, the bar sits in its own panel's
  // slot, right of the heatmap, so that it never covers the next panel's axis.
  const slot = 1 / n;
  const own = !fig.sharedScale && n > 1;
  const plotWidth = own ? 0.62 : 0.8;
  const layout: Record<string, unknown> = {
    ...baseLayout(shownTitle(fig)),
    width: Math.min(1100, 330 * n + 140),
    height: 460,
  };
  const data = fig.panels.map((p, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const coloraxis = fig.sharedScale ? 'coloraxis' : `coloraxis${suffix}`;
    if (!fig.sharedScale || i === 0) {
      const bar = own ? { x: i * slot + slot * (plotWidth + 0.03), xanchor: 'left', len: 0.9, thickness: 12 } : {};
      layout[coloraxis] = { colorscale: 'Viridis', colorbar: { title: { text: colorTitle, side: 'right' }, nticks: 6, ...bar } };
    }
    const domain = [i * slot + (i === 0 ? 0 : 0.04 * slot), i * slot + slot * (n === 1 ? 0.85 : plotWidth)];
    layout[`xaxis${suffix}`] = { title: { text: `${fig.x.title}${n > 1 ? ` — ${p.name}` : ''}` }, type: 'category', domain, anchor: `y${suffix}`, automargin: true };
    layout[`yaxis${suffix}`] = { title: { text: i === 0 ? fig.y.title : '' }, type: 'category', autorange: 'reversed', anchor: `x${suffix}`, automargin: true };
    const z = p.z.map((row) => row.map((v) => (drawable(v, fig.color.log) ? (fig.color.log ? Math.log10(v) : v) : null)));
    return { type: 'heatmap', name: p.name, x: fig.x.categories, y: fig.y.categories, z, xaxis: `x${suffix}`, yaxis: `y${suffix}`, coloraxis };
  });
  return { data, layout };
}

function barFigure(fig: BarFigure): PlotlyFigure {
  return {
    data: fig.series.map((s, i) => ({
      type: 'bar',
      name: s.name,
      x: fig.x.categories,
      y: s.values.map((v) => (drawable(v, fig.y.log) ? v : null)),
      marker: { color: PALETTE[i % PALETTE.length] },
    })),
    layout: {
      ...baseLayout(shownTitle(fig)),
      width: SIZE.width + 260,
      height: SIZE.height + 120,
      barmode: 'group',
      xaxis: { title: { text: fig.x.title }, type: 'category', automargin: true },
      yaxis: axis(fig.y),
      legend: fig.legend ? { title: { text: fig.legend } } : {},
    },
  };
}

export function toPlotly(fig: Figure): PlotlyFigure {
  return fig.kind === 'line' ? lineFigure(fig) : fig.kind === 'heatmap' ? heatmapFigure(fig) : barFigure(fig);
}
