#!/usr/bin/env node
// bench/data-prep: JPEG decode + resize + shard write, ours (sharp/libvips + Arrow) vs Pillow on the
// same files in the same run; then peak RSS while converting 20,000 generated images (flat memory).
// Needs `npm run build` and Debian python3-pil (/usr/bin/python3). Env: BENCH_IMAGES (default 1500),
// BENCH_FLAT_IMAGES (default 20000), BENCH_SIZE (default 224).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { convertImagenet, decodeResized, writeShard } from '../../packages/data/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = join(here, '..', 'out', 'data-prep');
const N = Number(process.env.BENCH_IMAGES ?? 1500);
const FLAT = Number(process.env.BENCH_FLAT_IMAGES ?? 20000);
const SIZE = Number(process.env.BENCH_SIZE ?? 224);
const PYTHON = '/usr/bin/python3';

/** A photo-like test image: smooth colour fields plus texture and noise, so JPEG has real work to do. */
function photo(seed, w, h) {
  const px = Buffer.alloc(w * h * 3);
  let s = seed * 2654435761 >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const a = rnd() * 6, b = rnd() * 6, c = rnd() * 6;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3, u = x / w, v = y / h;
    px[i] = 128 + 90 * Math.sin(a + 5 * u + 3 * v) + 20 * (rnd() - 0.5);
    px[i + 1] = 128 + 90 * Math.sin(b + 7 * u * v + 9 * v) + 20 * (rnd() - 0.5);
    px[i + 2] = 128 + 90 * Math.sin(c + 11 * u - 4 * v + 8 * u * u) + 20 * (rnd() - 0.5);
  }
  return px;
}

const SHAPES = [[500, 375], [375, 500], [500, 333], [640, 480], [400, 400]];
async function makeJpegs(dir, n, shapes, name) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  const todo = [];
  for (let i = 0; i < n; i++) {
    const [w, h] = shapes[i % shapes.length];
    const f = join(dir, name(i));
    files.push(f);
    if (!existsSync(f)) todo.push([i, w, h, f]);
  }
  // photo() is the slow part: make 64 distinct pictures and reuse them under different names
  const pics = new Map();
  for (const [i, w, h, f] of todo) {
    const k = `${i % 64}:${w}x${h}`;
    if (!pics.has(k)) pics.set(k, await sharp(photo(i % 64 + 1, w, h), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, pics.get(k));
  }
  return files;
}

async function ours(files) {
  const t0 = performance.now();
  const per = 512, bytes = SIZE * SIZE * 3;
  let shard = 0;
  for (let s = 0; s < files.length; s += per, shard++) {
    const chunk = files.slice(s, s + per);
    const data = new Uint8Array(chunk.length * bytes);
    let next = 0;
    // the same bounded-concurrency loop prepareThings runs
    await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, async () => {
      while (next < chunk.length) {
        const i = next++;
        const img = await decodeResized(await readFile(chunk[i]), SIZE, SIZE);
        data.set(img.data, i * bytes);
      }
    }));
    writeShard(join(work, `ours-${shard}.arrow`), { ids: chunk.map((f) => f), split: 'train', images: { kind: 'fixed', height: SIZE, width: SIZE, data } });
  }
  return (performance.now() - t0) / 1000;
}

function pillow(files, processes) {
  const list = join(work, 'files.txt');
  writeFileSync(list, files.join('\n'));
  const r = spawnSync(PYTHON, [join(here, 'pillow_resize.py'), list, join(work, 'pillow.raw'), String(SIZE), String(processes)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Pillow reference failed (is python3-pil installed?): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).seconds;
}

const fmt = (x) => x.toFixed(1).padStart(8);
console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} CPUs; sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}`);
mkdirSync(work, { recursive: true });
const files = await makeJpegs(join(work, 'jpegs'), N, SHAPES, (i) => `img_${String(i).padStart(6, '0')}.jpg`);
console.log(`\n1. decode + resize to ${SIZE}x${SIZE} (bilinear, antialiased) + shard write, ${N} JPEGs of 333..640 px`);
// warm both (page cache, libraries), then time
await ours(files.slice(0, 50)); pillow(files.slice(0, 50), 1);
const tOurs = await ours(files);
const tPil1 = pillow(files, 1);
const tPil2 = pillow(files, 2);
console.log(`   ${'images/s'.padStart(8)}  what`);
console.log(`   ${fmt(N / tOurs)}  ours: sharp (libvips) + Arrow IPC shards, ${Math.max(2, availableParallelism())} in flight`);
console.log(`   ${fmt(N / tPil1)}  Pillow ${spawnSync(PYTHON, ['-c', 'import PIL; print(PIL.__version__)'], { encoding: 'utf8' }).stdout.trim()}, 1 process`);
console.log(`   ${fmt(N / tPil2)}  Pillow, 2 processes (multiprocessing.Pool)`);
console.log(`   ratio ours / Pillow 1 process:   ${(tPil1 / tOurs).toFixed(2)}x`);
console.log(`   ratio ours / Pillow 2 processes: ${(tPil2 / tOurs).toFixed(2)}x`);

if (FLAT === 0) process.exit(0);
console.log(`\n2. peak RSS while converting ${FLAT} generated images (ImageNet layout, short side 256 + val crop)`);
const root = join(work, 'tree');
const classes = 20;
await makeJpegs(join(root, 'train'), FLAT, [[320, 240], [240, 320], [300, 300]], (i) => `n${String(1000000 + (i % classes)).padStart(8, '0')}/n${String(1000000 + (i % classes)).padStart(8, '0')}_${i}.JPEG`);
const out = join(work, 'tree-out');
rmSync(out, { recursive: true, force: true });
const samples = [];
const t1 = performance.now();
const m = await convertImagenet({ root, shortSide: 256 }, out, {
  progress: (done, total) => { if (done % Math.floor(total / 10) === 0) samples.push([done, process.memoryUsage().rss]); },
});
const tFlat = (performance.now() - t1) / 1000;
console.log(`   ${m.counts.train} images in ${tFlat.toFixed(1)} s (${(m.counts.train / tFlat).toFixed(1)} images/s), ${m.shards.length} shards`);
console.log(`   RSS (MiB) at 10%..100%: ${samples.map(([, r]) => (r / 2 ** 20).toFixed(0)).join(' ')}`);
console.log(`   peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (whole process, including part 1)`);
rmSync(out, { recursive: true, force: true });
