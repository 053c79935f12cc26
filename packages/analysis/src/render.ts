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

/** Styling shared by every figure: the one font, readable sizes, white background. */
export const CHART_CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
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

/** Vega-Lite spec -> SVG (headless Vega view, no browser) -> PNG (resvg at `scale`×). */
export async function renderSpec(spec: TopLevelSpec, scale = 2): Promise<RenderedFigure> {
  const vegaSpec = compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const resvg = new Resvg(svg, {
    font: { fontFiles: [fontFile()], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  });
  const image = resvg.render();
  return { svg, png: image.asPng(), width: image.width / scale, height: image.height / scale };
}
