"""PyTorch twin of step.mjs: the same CLIP-HBA training step (ViT-L/14 vision blocks 22-23 from cached
block-22 inputs + ln_post + proj, text block 11 from cached inputs (first L = 18 positions) + ln_final + text_projection, cosine
head, MSE, backward, AdamW lr 3e-4 wd .01 on the DoRA m/A/B), fp32, TF32 off. Prints one JSON line.

    python3 torch_step.py [--batch 64] [--steps 2] [--warmup 1] [--device cpu|cuda] [--threads N] [--out FILE] [--last-token-only]

--last-token-only: the last vision and text blocks run at the one token their head reads (CLS, EOT), as the
tfjs step does (layers.ts residualBlockAt): the same loss and gradients for less work. Without it, the
step as the study's PyTorch code computes it (every position of every block).
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--batch', type=int, default=64)
p.add_argument('--steps', type=int, default=2)
p.add_argument('--warmup', type=int, default=1)
p.add_argument('--device', default='cpu')
p.add_argument('--threads', type=int, default=0)
p.add_argument('--out', default='')
p.add_argument('--last-token-only', action='store_true')
a = p.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device(a.device)
torch.manual_seed(0)


def frozen(*shape, std=0.02):
    return (torch.randn(*shape) * std).to(dev)


def block(width, mlp):
    return {'ln_1.weight': torch.ones(width, device=dev), 'ln_1.bias': torch.zeros(width, device=dev),
            'in_proj_weight': frozen(3 * width, width), 'in_proj_bias': torch.zeros(3 * width, device=dev),
            'out_proj.weight': frozen(width, width), 'out_proj.bias': torch.zeros(width, device=dev),
            'ln_2.weight': torch.ones(width, device=dev), 'ln_2.bias': torch.zeros(width, device=dev),
            'c_fc.weight': frozen(mlp, width), 'c_fc.bias': torch.zeros(mlp, device=dev),
            'c_proj.weight': frozen(width, mlp), 'c_proj.bias': torch.zeros(width, device=dev)}


class Dora:
    """Method §1.3: m = ‖W rows‖, D = Wᵀ/m, W' = (m · (D + B@A·α/r) / (‖col‖ + 1e-8))ᵀ."""

    def __init__(self, W, r=32, alpha=16):
        out_f, in_f = W.shape
        self.m = W.norm(dim=1).clone().requires_grad_(True)
        self.D = (W.T / W.norm(dim=1)).contiguous()
        self.A = ((torch.rand(r, out_f, device=dev) * 2 - 1) / math.sqrt(out_f)).requires_grad_(True)
        self.B = ((torch.rand(in_f, r, device=dev) * 2 - 1) / math.sqrt(r)).requires_grad_(True)
        self.s = alpha / r

    def weight(self):
        adapted = self.D + (self.B @ self.A) * self.s
        return (self.m * adapted / (adapted.norm(dim=0) + 1e-8)).T

    def params(self):
        return [self.m, self.A, self.B]


def resblock(x, w, heads, out_w, mask=None):
    """OpenAI ResidualAttentionBlock, x [T, B, W]."""
    W = x.shape[-1]
    h = F.layer_norm(x, (W,), w['ln_1.weight'], w['ln_1.bias'], 1e-5)
    att, _ = F.multi_head_attention_forward(h, h, h, W, heads, w['in_proj_weight'], w['in_proj_bias'], None, None, False, 0.0,
                                            out_w, w['out_proj.bias'], need_weights=False, attn_mask=mask)
    x = x + att
    h = F.layer_norm(x, (W,), w['ln_2.weight'], w['ln_2.bias'], 1e-5)
    h = F.linear(h, w['c_fc.weight'], w['c_fc.bias'])
    return x + F.linear(h * torch.sigmoid(1.702 * h), w['c_proj.weight'], w['c_proj.bias'])


def resblock_at(x, w, heads, out_w, rows, mask=None):
    """resblock's output at position rows[b] of each sequence b only: x [T, B, W] -> [B, W]."""
    T, Bn, W = x.shape
    cols = torch.arange(Bn, device=x.device)
    h = F.layer_norm(x, (W,), w['ln_1.weight'], w['ln_1.bias'], 1e-5)
    # per sequence, its query row of the additive mask, for every head: [B*heads, 1, T]
    m = None if mask is None else mask[rows].repeat_interleave(heads, dim=0).unsqueeze(1)
    att, _ = F.multi_head_attention_forward(h[rows, cols].unsqueeze(0), h, h, W, heads, w['in_proj_weight'], w['in_proj_bias'], None, None, False,
                                            0.0, out_w, w['out_proj.bias'], need_weights=False, attn_mask=m)
    x = x[rows, cols] + att[0]
    h = F.layer_norm(x, (W,), w['ln_2.weight'], w['ln_2.bias'], 1e-5)
    h = F.linear(h, w['c_fc.weight'], w['c_fc.bias'])
    return x + F.linear(h * torch.sigmoid(1.702 * h), w['c_proj.weight'], w['c_proj.bias'])


B, P, ctx = a.batch, 66, 77
v22, v23, t11 = block(1024, 4096), block(1024, 4096), block(768, 3072)
doras = [Dora(v22['out_proj.weight']), Dora(v23['out_proj.weight']), Dora(t11['out_proj.weight'])]
ln_post = (torch.ones(1024, device=dev), torch.zeros(1024, device=dev))
proj = frozen(1024, 768, std=1024 ** -0.5)
ln_final = (torch.ones(768, device=dev), torch.zeros(768, device=dev))
text_projection = frozen(768, 768, std=768 ** -0.5)
logit_scale = torch.tensor(math.log(100.0), device=dev)
vprefix = torch.randn(B, 257, 1024, device=dev)
eot = torch.tensor([2 + (p % 15) + 1 for p in range(P)], device=dev)
L = int(eot.max()) + 1  # as in tfjs: positions after the last EOT cannot affect any EOT feature (causal mask)
tprefix = torch.randn(P, L, 768, device=dev)
targets = torch.rand(B, P, device=dev) * 100
mask = torch.full((L, L), float('-inf'), device=dev).triu_(1)
params = [q for d in doras for q in d.params()]
opt = torch.optim.AdamW(params, lr=3e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def step():
    x = vprefix.permute(1, 0, 2)
    x = resblock(x, v22, 16, doras[0].weight())
    if a.last_token_only:
        cls = resblock_at(x, v23, 16, doras[1].weight(), torch.zeros(B, dtype=torch.long, device=dev))
        y = resblock_at(tprefix.permute(1, 0, 2), t11, 12, doras[2].weight(), eot, mask)
    else:
        cls = resblock(x, v23, 16, doras[1].weight())[0]
        y = resblock(tprefix.permute(1, 0, 2), t11, 12, doras[2].weight(), mask).permute(1, 0, 2)[torch.arange(P, device=dev), eot]
    img = F.layer_norm(cls, (1024,), *ln_post, 1e-5) @ proj
    txt = F.layer_norm(y, (768,), *ln_final, 1e-5) @ text_projection
    pred = logit_scale.exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).T
    loss = F.mse_loss(pred, targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()  # .item() synchronises


for _ in range(a.warmup):
    step()
if dev.type == 'cuda':
    torch.cuda.synchronize()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(a.steps):
    loss = step()
if dev.type == 'cuda':
    torch.cuda.synchronize()
res = {'impl': f'torch {torch.__version__} {a.device}' + (', last token only' if a.last_token_only else ''), 'threads': torch.get_num_threads(), 'batch': B,
       'seconds_per_step': (time.perf_counter() - t0) / a.steps, 'cpu_seconds_per_step': (time.process_time() - c0) / a.steps, 'loss': loss,
       'trainable': sum(q.numel() for q in params)}
print(json.dumps(res))
if a.out:
    with open(a.out, 'w') as f:
        json.dump(res, f)
