/**
 * The wasm backend's GEMM, batched or not, as a WebAssembly SIMD128 module that works in place on
 * tfjs-backend-wasm's own memory (it imports the backend's WebAssembly.Memory: no copies).
 *
 * Why: attention's products are hundreds of tiny matrices per call ([B*H, T, hd] x [B*H, hd, T] with
 * T = 8..17, hd = 32 in the default study). tfjs-wasm runs a batched product as a scalar loop
 * (~1.3 GFLOP/s); one XNNPACK call per entry pays ~2 us of set-up per entry, so at these sizes it
 * reaches ~5 GFLOP/s. Here one call covers every entry, in register tiles of 4 rows x 8 columns (two
 * f32x4 accumulators per row); large right-hand matrices are packed in blocks (gemmOn). With FMA it
 * also beats XNNPACK's 2-D products, 1.3-2.4x (bench/model-step/gemm.mjs).
 *
 * Where the engine has relaxed SIMD, each multiply-add is one f32x4.relaxed_madd (an FMA on x86 with
 * FMA3: 1.4-2.3x the GFLOP/s of separate multiplies and adds, measured here). Node 22 enables it by
 * default; Node 20 has it behind --experimental-wasm-relaxed-simd, which prepareBatchedGemm sets
 * through v8.setFlagsFromString. LW_WASM_FMA=0 keeps plain SIMD128 multiplies and adds.
 *
 * The module is written in WebAssembly text, generated per tile shape below and assembled by wabt
 * once per process.
 */
import { setFlagsFromString } from 'node:v8';
import wabtInit from 'wabt';

/**
 * c[g] = a[g] @ b[g] (+ bias, or + c itself when `accumulate`) for g < G: a [G, M, K] with rows lda
 * floats apart, c [G, M, N] with rows ldc apart, bias [N] or 0 for none; float32 at byte offsets. b is
 * [G, K, N] row-major with rows ldb apart, or, when `packed`, one [K, N] block stored column group
 * by column group (packB). Each sum starts from the bias (or c, or 0) and adds k = 0..K-1 in order.
 */
export type GemmKernel = (a: number, b: number, c: number, G: number, M: number, K: number, N: number, bias: number, lda: number, ldb: number, ldc: number, accumulate: number, packed: number) => void;

/** c[g] = a[g] @ b[g] (+ bias) on contiguous row-major operands: a [G, M, K], b [G, K, N], c [G, M, N]. */
export type BatchedGemm = (a: number, b: number, c: number, G: number, M: number, K: number, N: number, bias: number) => void;

/**
 * One register tile: R rows (4 or 1) x C columns (8 or 4: f32x4 vectors; 1: scalar) of c, summed over
 * all K. Expects $i (first row), $j (first column), $a/$b/$c (this entry's bases), $k4 = 4K and the
 * row strides in bytes $lda4, $ldb4, $ldc4.
 */
function tile(R: 4 | 1, C: 8 | 4 | 1, fma: boolean): string {
  const rows = [...Array(R).keys()], vecs = C === 1 ? [] : [...Array(C / 4).keys()];
  const acc = (r: number, v: number) => (C === 1 ? `$s${r}` : `$v${r}_${v}`);
  const cols = C === 1 ? [0] : vecs;
  const lines: string[] = [];
  // A row pointers at column 0 of rows i..i+R-1; B pointer at row 0, column j; the loop ends when $p0 reaches $end.
  for (const r of rows) lines.push(`(local.set $p${r} (i32.add (local.get $a) (i32.mul (i32.add (local.get $i) (i32.const ${r})) (local.get $lda4))))`);
  // Packed b: this column group's [K, C] block starts at float j*K, its rows C floats apart.
  lines.push('(local.set $pb (i32.add (local.get $b) (if (result i32) (local.get $packed) (then (i32.mul (local.get $j) (local.get $k4))) (else (i32.shl (local.get $j) (i32.const 2))))))');
  lines.push(`(local.set $bstep (if (result i32) (local.get $packed) (then (i32.const ${4 * C})) (else (local.get $ldb4))))`);
  lines.push('(local.set $end (i32.add (local.get $p0) (local.get $k4)))');
  // Row r of c at c + (i + r) * ldc4 + 4j.
  const pc = (r: number) => `(i32.add (i32.add (local.get $c) (i32.mul (i32.add (local.get $i) (i32.const ${r})) (local.get $ldc4))) (i32.shl (local.get $j) (i32.const 2)))`;
  // Accumulators start at c (accumulate), else bias[j..], else 0.
  const start = (v: number) => (C === 1
    ? '(if (result f32) (local.get $bias) (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))) (else (f32.const 0)))'
    : `(if (result v128) (local.get $bias) (then (v128.load offset=${16 * v} (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))) (else (v128.const i32x4 0 0 0 0)))`);
  for (const v of cols) lines.push(`(local.set ${acc(0, v)} ${start(v)})`);
  for (const r of rows.slice(1)) for (const v of cols) lines.push(`(local.set ${acc(r, v)} (local.get ${acc(0, v)}))`);
  lines.push('(if (local.get $accumulate) (then');
  for (const r of rows) for (const v of cols) lines.push(C === 1 ? `  (local.set ${acc(r, v)} (f32.load ${pc(r)}))` : `  (local.set ${acc(r, v)} (v128.load offset=${16 * v} ${pc(r)}))`);
  lines.push('))');
  lines.push('(loop $kloop');
  if (C === 1) lines.push('  (local.set $bs (f32.load (local.get $pb)))');
  else for (const v of vecs) lines.push(`  (local.set $b${v} (v128.load offset=${16 * v} (local.get $pb)))`);
  for (const r of rows) {
    if (C === 1) {
      lines.push(`  (local.set ${acc(r, 0)} (f32.add (local.get ${acc(r, 0)}) (f32.mul (f32.load (local.get $p${r})) (local.get $bs))))`);
    } else {
      lines.push(`  (local.set $av (v128.load32_splat (local.get $p${r})))`);
      for (const v of vecs) {
        lines.push(fma
          ? `  (local.set ${acc(r, v)} (f32x4.relaxed_madd (local.get $av) (local.get $b${v}) (local.get ${acc(r, v)})))`
          : `  (local.set ${acc(r, v)} (f32x4.add (local.get ${acc(r, v)}) (f32x4.mul (local.get $av) (local.get $b${v}))))`);
      }
    }
    lines.push(`  (local.set $p${r} (i32.add (local.get $p${r}) (i32.const 4)))`);
  }
  lines.push('  (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))');
  lines.push('  (br_if $kloop (i32.lt_u (local.get $p0) (local.get $end))))');
  for (const r of rows) {
    lines.push(`(local.set $pc ${pc(r)})`);
    if (C === 1) lines.push(`(f32.store (local.get $pc) (local.get ${acc(r, 0)}))`);
    else for (const v of vecs) lines.push(`(v128.store offset=${16 * v} (local.get $pc) (local.get ${acc(r, v)}))`);
  }
  return lines.join('\n');
}

/** Every column of rows $i..$i+R-1: 8-column tiles, then one 4-column tile, then single columns. */
function rowBlock(R: 4 | 1, fma: boolean): string {
  return `
(local.set $j (i32.const 0))
(block $d8 (loop $l8
  (br_if $d8 (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
  ${tile(R, 8, fma)}
  (local.set $j (i32.add (local.get $j) (i32.const 8)))
  (br $l8)))
(if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $N)) (then
  ${tile(R, 4, fma)}
  (local.set $j (i32.add (local.get $j) (i32.const 4)))))
(block $d1 (loop $l1
  (br_if $d1 (i32.ge_u (local.get $j) (local.get $N)))
  ${tile(R, 1, fma)}
  (local.set $j (i32.add (local.get $j) (i32.const 1)))
  (br $l1)))`;
}

/**
 * The module's text; `shared` must match the imported memory (tfjs-wasm's threaded build shares it);
 * `fma`: vector multiply-adds as relaxed_madd (the scalar column tail keeps f32 mul + add).
 */
export function batchedGemmWat(shared: boolean, fma: boolean): string {
  const v128 = ['$av', '$b0', '$b1', ...[0, 1, 2, 3].flatMap((r) => [`$v${r}_0`, `$v${r}_1`])];
  const f32 = ['$bs', '$s0', '$s1', '$s2', '$s3'];
  const i32 = ['$g', '$i', '$j', '$k4', '$lda4', '$ldb4', '$ldc4', '$p0', '$p1', '$p2', '$p3', '$pb', '$bstep', '$pc', '$end'];
  return `(module
(import "env" "memory" (memory 1 ${shared ? '65536 shared' : ''}))
(func (export "bmm") (param $a i32) (param $b i32) (param $c i32) (param $G i32) (param $M i32) (param $K i32) (param $N i32) (param $bias i32) (param $lda i32) (param $ldb i32) (param $ldc i32) (param $accumulate i32) (param $packed i32)
  ${i32.map((n) => `(local ${n} i32)`).join(' ')}
  ${f32.map((n) => `(local ${n} f32)`).join(' ')}
  ${v128.map((n) => `(local ${n} v128)`).join(' ')}
  (local.set $k4 (i32.shl (local.get $K) (i32.const 2)))
  (local.set $lda4 (i32.shl (local.get $lda) (i32.const 2)))
  (local.set $ldb4 (i32.shl (local.get $ldb) (i32.const 2)))
  (local.set $ldc4 (i32.shl (local.get $ldc) (i32.const 2)))
  (block $gdone (loop $gloop
    (br_if $gdone (i32.ge_u (local.get $g) (local.get $G)))
    (local.set $i (i32.const 0))
    (block $d4 (loop $l4
      (br_if $d4 (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $M)))
      ${rowBlock(4, fma)}
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l4)))
    (block $dr (loop $lr
      (br_if $dr (i32.ge_u (local.get $i) (local.get $M)))
      ${rowBlock(1, fma)}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $lr)))
    (local.set $a (i32.add (local.get $a) (i32.mul (local.get $M) (local.get $lda4))))
    (local.set $b (i32.add (local.get $b) (i32.mul (local.get $K) (local.get $ldb4))))
    (local.set $c (i32.add (local.get $c) (i32.mul (local.get $M) (local.get $ldc4))))
    (local.set $g (i32.add (local.get $g) (i32.const 1)))
    (br $gloop)))
)
)`;
}

let assembled: { shared: WebAssembly.Module; plain: WebAssembly.Module; fma: boolean } | null = null;

/** Whether the GEMM uses fused multiply-adds (relaxed SIMD); null before prepareBatchedGemm. */
export function batchedGemmUsesFma(): boolean | null {
  return assembled?.fma ?? null;
}

let wabt: ReturnType<typeof wabtInit> | null = null;
/** The module's binary, assembled by wabt. */
export async function assembleBatchedGemm(shared: boolean, fma: boolean): Promise<Uint8Array<ArrayBuffer>> {
  const features = { simd: true, threads: shared, relaxed_simd: fma };
  const parsed = (await (wabt ??= wabtInit())).parseWat('batched-gemm.wat', batchedGemmWat(shared, fma), features);
  try {
    // wabt's typings omit validate's features argument; without it shared memory fails to validate.
    (parsed.validate as (f: object) => void)(features);
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

/** Assembles the module once (with relaxed_madd where the engine has relaxed SIMD, unless LW_WASM_FMA=0). */
export async function prepareBatchedGemm(): Promise<void> {
  if (assembled) return;
  const probe = process.env.LW_WASM_FMA === '0' ? null : await assembleBatchedGemm(false, true);
  const fma = probe !== null && relaxedSimd(probe);
  // With FMA the probe is the plain-memory module itself.
  const [shared, plain] = await Promise.all([assembleBatchedGemm(true, fma), fma ? probe : assembleBatchedGemm(false, false)]);
  assembled = { shared: new WebAssembly.Module(shared), plain: new WebAssembly.Module(plain), fma };
}

/** Whether the engine takes `probe` (a module using relaxed SIMD), switching V8's flag on if it must. */
function relaxedSimd(probe: Uint8Array<ArrayBuffer>): boolean {
  if (WebAssembly.validate(probe)) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(probe);
}

/** Blocks of b for products whose b exceeds one: KC x NC floats (256 KB) stay in L2 while every row of a passes over them. */
export const KC = 256, NC = 256;

/**
 * The GEMM over `memory` for operands of any size. b of at most KC x NC floats is read in place; a
 * larger b is taken in KC x NC blocks, each first packed (packB) into `scratch()` (KC * NC floats of
 * `memory`, asked for once), and the k-blocks accumulate into c in order, so the sums are the same as
 * in one pass. Packing makes each register tile's slice of b contiguous: read in place, its rows are
 * a whole row of b apart, and past L2 size that thrashes the TLB (8-22 GFLOP/s measured, against
 * 35-50 in cache).
 */
export function gemmOn(kernel: GemmKernel, memory: WebAssembly.Memory, scratch: () => number): BatchedGemm {
  let buffer = 0;
  return (a, b, c, G, M, K, N, bias) => {
    if (K * N <= KC * NC) {
      kernel(a, b, c, G, M, K, N, bias, K, N, N, 0, 0);
      return;
    }
    buffer ||= scratch();
    for (let g = 0; g < G; g++) {
      const ag = a + 4 * g * M * K, bg = b + 4 * g * K * N, cg = c + 4 * g * M * N;
      for (let j0 = 0; j0 < N; j0 += NC) {
        for (let k0 = 0; k0 < K; k0 += KC) {
          const kc = Math.min(KC, K - k0), nc = Math.min(NC, N - j0);
          // A fresh view each time: the memory may have grown since.
          packB(new Float32Array(memory.buffer), bg / 4 + k0 * N + j0, N, kc, nc, buffer / 4);
          kernel(ag + 4 * k0, buffer, cg + 4 * j0, 1, M, kc, nc, k0 === 0 && bias ? bias + 4 * j0 : 0, K, 0, N, k0 > 0 ? 1 : 0, 1);
        }
      }
    }
  };
}

/**
 * Copies the [K, N] block of `heap` at float `src` (rows `ld` floats apart) to float `dst` column group
 * by column group, in the kernel's tile widths: 8-column groups, then a 4-column one, then single
 * columns; the group starting at column j holds its [K, width] rows contiguously from dst + j * K.
 */
export function packB(heap: Float32Array, src: number, ld: number, K: number, N: number, dst: number): void {
  let j = 0;
  const group = (width: number) => {
    for (let k = 0, o = dst + j * K, i = src + j; k < K; k++, i += ld) for (let t = 0; t < width; t++) heap[o++] = heap[i + t];
    j += width;
  };
  while (j + 8 <= N) group(8);
  if (j + 4 <= N) group(4);
  while (j < N) group(1);
}

const instances = new WeakMap<WebAssembly.Memory, BatchedGemm>();
/**
 * The GEMM over `memory` (null before prepareBatchedGemm); `scratch` allocates KC * NC floats in it
 * when a product first needs them. K must be >= 1.
 */
export function batchedGemm(memory: WebAssembly.Memory, scratch: () => number): BatchedGemm | null {
  if (!assembled) return null;
  let f = instances.get(memory);
  if (!f) {
    const module = memory.buffer instanceof SharedArrayBuffer ? assembled.shared : assembled.plain;
    f = gemmOn(new WebAssembly.Instance(module, { env: { memory } }).exports.bmm as GemmKernel, memory, scratch);
    instances.set(memory, f);
  }
  return f;
}
