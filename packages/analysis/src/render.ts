import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One font, shipped as an npm package and loaded explicitly, so a figure renders the same everywhere. */
export const FONT_FAMILY = 'DejaVu Sans';

function fontFile(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf', 'DejaVuSans.ttf');
}

/** Styling shared by every figure: the one font, readable sizes. */
export const CHART_CONFIG = {
  font: FONT_FAMILY,
  padding: 8,
  axis: { labelFontSize: 12, titleFontSize: 13, labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, grid: true, gridOpacity: 0.4 },
  legend: { labelFontSize: 12, titleFontSize: 13, labelFont: FONT_FAMILY, titleFont: FONT_FAMILY },
  header: { labelFontSize: 13, titleFontSize: 14, labelFont: FONT_FAMILY, titleFont: FONT_FAMILY },
  title: { fontSize: 15, font: FONT_FAMILY, anchor: 'start' as const, offset: 10 },
  text: { font: FONT_FAMILY },
  view: { stroke: '#888' },
};

export interface RenderedFigure {
  svg: string;
  png: Uint8Array;
  width: number;
  height: number;
}

/**
 * Vega-Lite spec -> SVG (headless Vega view, no browser) -> PNG (resvg at `scale`×).
 * Without a canvas, Vega estimates text extents and over-reserves room around rotated titles, so
 * the SVG is trimmed to the bounding box of what is drawn (plus a margin) before it is written.
 */
export async function renderSpec(spec: TopLevelSpec, scale = 2): Promise<RenderedFigure> {
  const config = { ...CHART_CONFIG, ...(spec.config ?? {}), background: 'transparent' };
  const vegaSpec = compile({ ...spec, config } as TopLevelSpec).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  const raw = await view.toSVG();
  view.finalize();
  const font = { fontFiles: [fontFile()], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY };
  const svg = trimToContent(raw, new Resvg(raw, { font }).getBBox(), 10);
  const image = new Resvg(svg, { font, fitTo: { mode: 'zoom', value: scale } }).render();
  return { svg, png: image.asPng(), width: image.width / scale, height: image.height / scale };
}

/** Replaces the root's size and viewBox by the drawn bounding box plus `margin`, on a white background. */
function trimToContent(svg: string, box: { x: number; y: number; width: number; height: number } | undefined, margin: number): string {
  if (!box) return svg;
  const x = Math.floor(box.x - margin);
  const y = Math.floor(box.y - margin);
  const w = Math.ceil(box.width + 2 * margin);
  const h = Math.ceil(box.height + 2 * margin);
  const open = /^<svg[^>]*>/.exec(svg)![0];
  const root = open
    .replace(/ width="[^"]*"/, ` width="${w}"`)
    .replace(/ height="[^"]*"/, ` height="${h}"`)
    .replace(/ viewBox="[^"]*"/, ` viewBox="${x} ${y} ${w} ${h}"`);
  return root + `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="white"/>` + svg.slice(open.length);
}
