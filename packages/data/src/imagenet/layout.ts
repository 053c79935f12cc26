import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '@lw/core';

/**
 * Finds the images and labels of an ILSVRC-2012 tree:
 *   train/nXXXXXXXX/*.JPEG
 *   val/ in one of three layouts:
 *     class folders        val/nXXXXXXXX/*.JPEG
 *     flat + Kaggle CSV    val/*.JPEG + LOC_val_solution.csv (ImageId,PredictionString "nXXXXXXXX x y x y ...")
 *     flat + devkit        val/*.JPEG + ILSVRC2012_validation_ground_truth.txt (one ILSVRC2012_ID a line,
 *                          1-based, for the val files in name order) + a synset list giving, line k, the
 *                          synset of ILSVRC2012_ID k (the devkit's meta.mat order, which is NOT sorted by id)
 * Classes are the sorted synset ids of train/, as torchvision's ImageFolder indexes them.
 */

export interface ImageItem { id: string; path: string; label: number; bytes: number }
export type ValLayout = 'class-folders' | 'loc-csv' | 'devkit';

export interface ImagenetTree { classes: string[]; train: ImageItem[]; val: ImageItem[]; valLayout: ValLayout | 'none'; labelFiles: string[] }

const IMAGE = /\.(jpe?g|png)$/i;
const SYNSET = /^n\d{8}$/;

function listImages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && IMAGE.test(e.name)).map((e) => e.name).sort();
}

function findFile(root: string, names: string[], explicit?: string): string | undefined {
  if (explicit) {
    if (!existsSync(explicit)) throw new UserError(`${explicit}: file not found`);
    return explicit;
  }
  for (const n of names) for (const d of [root, join(root, '..'), join(root, 'ILSVRC2012_devkit_t12', 'data'), join(root, 'val')]) if (existsSync(join(d, n))) return join(d, n);
  return undefined;
}

export interface LayoutOptions { valLabels?: string; synsets?: string }

export function discoverImagenet(root: string, opts: LayoutOptions = {}): ImagenetTree {
  const trainDir = join(root, 'train'), valDir = join(root, 'val');
  if (!existsSync(trainDir)) throw new UserError(`${root}: no train/ folder`, 'point --root at the ILSVRC-2012 folder holding train/ and val/');
  const classes = readdirSync(trainDir, { withFileTypes: true }).filter((e) => e.isDirectory() && SYNSET.test(e.name)).map((e) => e.name).sort();
  if (classes.length === 0) throw new UserError(`${trainDir}: no nXXXXXXXX class folders`);
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const item = (id: string, path: string, label: number): ImageItem => ({ id, path, label, bytes: statSync(path).size });
  const train = classes.flatMap((c, label) => listImages(join(trainDir, c)).map((f) => item(`${c}/${f}`, join(trainDir, c, f), label)));

  if (!existsSync(valDir)) return { classes, train, val: [], valLayout: 'none', labelFiles: [] };
  const valFolders = readdirSync(valDir, { withFileTypes: true }).filter((e) => e.isDirectory() && SYNSET.test(e.name)).map((e) => e.name).sort();
  if (valFolders.length > 0) {
    const val = valFolders.flatMap((c) => {
      const label = labelOf.get(c);
      if (label === undefined) throw new UserError(`${join(valDir, c)}: class ${c} has no train/ folder`);
      return listImages(join(valDir, c)).map((f) => item(`${c}/${f}`, join(valDir, c, f), label));
    });
    return { classes, train, val, valLayout: 'class-folders', labelFiles: [] };
  }

  const files = listImages(valDir);
  const csv = findFile(root, ['LOC_val_solution.csv'], opts.valLabels?.endsWith('.csv') ? opts.valLabels : undefined);
  if (csv) {
    const synsetOf = new Map<string, string>();
    readFileSync(csv, 'utf8').split('\n').slice(1).forEach((line, i) => {
      if (!line.trim()) return;
      const [imageId, pred] = line.split(',');
      const syn = pred?.trim().split(/\s+/)[0];
      if (!syn || !SYNSET.test(syn)) throw new UserError(`${csv}:${i + 2}: no synset in "${line.slice(0, 60)}"`, 'rows are ImageId,PredictionString with the synset first');
      synsetOf.set(imageId.trim(), syn);
    });
    const val = files.map((f) => {
      const syn = synsetOf.get(f.replace(IMAGE, ''));
      if (!syn) throw new UserError(`${csv}: no label for val image ${f}`);
      const label = labelOf.get(syn);
      if (label === undefined) throw new UserError(`${csv}: ${f} is labelled ${syn}, which has no train/ folder`);
      return item(f, join(valDir, f), label);
    });
    return { classes, train, val, valLayout: 'loc-csv', labelFiles: [csv] };
  }

  const truth = findFile(root, ['ILSVRC2012_validation_ground_truth.txt'], opts.valLabels?.endsWith('.txt') ? opts.valLabels : undefined);
  if (!truth) {
    throw new UserError(`${valDir}: flat val folder without labels`, 'put LOC_val_solution.csv or the devkit ILSVRC2012_validation_ground_truth.txt beside it, or pass --val-labels');
  }
  if (!opts.synsets) {
    throw new UserError(`${truth}: the devkit labels are ILSVRC2012_IDs in meta.mat order`, 'pass --synsets FILE listing, one a line, the synset of ILSVRC2012_ID 1, 2, ... (meta.mat synsets[i].WNID for i < 1000)');
  }
  const devkitOrder = readFileSync(opts.synsets, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  devkitOrder.forEach((s, i) => { if (!SYNSET.test(s)) throw new UserError(`${opts.synsets}:${i + 1}: "${s}" is not a synset id`); });
  const ids = readFileSync(truth, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  if (ids.length !== files.length) throw new UserError(`${truth}: ${ids.length} labels for ${files.length} images in ${valDir}`);
  const val = files.map((f, i) => {
    const k = Number(ids[i]);
    const syn = devkitOrder[k - 1];
    if (!Number.isInteger(k) || !syn) throw new UserError(`${truth}:${i + 1}: label "${ids[i]}" is not an ILSVRC2012_ID in 1..${devkitOrder.length}`);
    const label = labelOf.get(syn);
    if (label === undefined) throw new UserError(`${truth}:${i + 1}: ${basename(f)} is ${syn}, which has no train/ folder`);
    return item(f, join(valDir, f), label);
  });
  return { classes, train, val, valLayout: 'devkit', labelFiles: [truth, opts.synsets] };
}
