import { tf } from '../tf.js';
import { runProgram, type WebGPUProgram } from './program.js';

/**
 * Fused elementwise kernels for tfjs' webgpu backend. QuickGELU's forward is 3 tfjs kernels and its
 * backward 7, each a full pass over [tokens, mlpWidth] ([16448, 4096] at ViT-L/14, batch 64); fused,
 * each is one pass. Other backends keep the composed ops (layers.ts): the formulas are the same.
 */
export const LW_QUICK_GELU = 'LwQuickGelu';
export const LW_QUICK_GELU_GRAD = 'LwQuickGeluGrad';
export const LW_SCATTER_ROWS = 'LwScatterRows';

const WORKGROUP = 128;

/** A flat elementwise program over equal-shaped inputs: `body` runs once per output index. */
export function elementwise(name: string, shape: number[], inputs: string[], body: string, uniforms?: string): WebGPUProgram {
  const size = shape.reduce((a, b) => a * b, 1);
  const groups = Math.ceil(size / WORKGROUP);
  return {
    outputShape: shape,
    shaderKey: name,
    dispatchLayout: { x: shape.map((_, i) => i) },
    // tfjs reshapes a dispatch over 65535 groups into 2-D/3-D itself (and getGlobalIndex follows).
    dispatch: [groups, 1, 1],
    variableNames: inputs,
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    ...(uniforms ? { uniforms } : {}),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

let registered = false;
export function registerWebgpuElementwise(): void {
  if (registered) return;
  registered = true;
  registerScatterRows();
  // σ(z) written as tfjs-webgpu's Sigmoid does (1 / (1 + exp(-z))), so values match the composed ops.
  tf.registerKernel({
    kernelName: LW_QUICK_GELU,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const p = elementwise('lwQuickGelu', x.shape, ['X'], `
          let v = X[index];
          let s = 1.0 / (1.0 + exp(-1.0 * (v * 1.702)));
          setOutputAtIndex(index, v * s);`);
      return runProgram(backend, p, [x]);
    },
  });
  tf.registerKernel({
    kernelName: LW_QUICK_GELU_GRAD,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      // d/dx x·σ(ax) = σ + a·x·σ·(1−σ)
      const p = elementwise('lwQuickGeluGrad', x.shape, ['DY', 'X'], `
          let v = X[index];
          let s = 1.0 / (1.0 + exp(-1.0 * (v * 1.702)));
          setOutputAtIndex(index, DY[index] * (s + (v * 1.702) * (s * (1.0 - s))));`);
      return runProgram(backend, p, [dy, x]);
    },
  });
}

/**
 * rows [n, W] placed at rows ids [n] (int32, strictly increasing) of a zero [V, W]: the gradient of a
 * row selection (layers.ts selectRows: CLS and EOT rows) in one pass. tfjs' ScatterNd fills, then
 * scatters, and took ~0.2 ms for 64 rows into [16448, 1024] on an H200.
 */
function registerScatterRows(): void {
  tf.registerKernel({
    kernelName: LW_SCATTER_ROWS,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { rows, ids } = inputs as { rows: tf.TensorInfo; ids: tf.TensorInfo };
      const { V } = attrs as unknown as { V: number };
      const [n, W] = rows.shape;
      // Each output row finds its source row by binary search of ids (the first id >= r).
      const p = elementwise('lwScatterRows', [V, W], ['ROWS', 'IDS'], `
          let r = index / uniforms.w;
          var lo = 0;
          var hi = uniforms.n;
          loop {
            if (lo >= hi) { break; }
            let mid = (lo + hi) / 2;
            if (IDS[mid] < r) { lo = mid + 1; } else { hi = mid; }
          }
          var v = 0.0;
          if (lo < uniforms.n && IDS[lo] == r) { v = ROWS[lo * uniforms.w + index % uniforms.w]; }
          setOutputAtIndex(index, v);`, 'n : i32, w : i32,');
      return runProgram(backend, p, [rows, ids], [n, W]);
    },
  });
}

/** rows [n, W] at rows `ids` (int32 [n], strictly increasing) of zeros [V, W], in one pass (webgpu only). */
export function scatterRowsFused(rows: tf.Tensor2D, ids: tf.Tensor1D, V: number): tf.Tensor2D {
  return tf.engine().runKernel(LW_SCATTER_ROWS, { rows, ids }, { V } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

export function fusedElementwiseApplies(): boolean {
  return registered && tf.getBackend() === 'webgpu';
}

/** x·σ(1.702x) in one pass (webgpu only). */
export function quickGeluFused(x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(LW_QUICK_GELU, { x }) as tf.Tensor;
}

/** dy · d/dx[x·σ(1.702x)] in one pass (webgpu only). */
export function quickGeluGradFused(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(LW_QUICK_GELU_GRAD, { dy, x }) as tf.Tensor;
}
