"""Reference fixtures for the Qwen2 engine, from an independent plain-PyTorch Qwen2ForCausalLM forward.

Writes tiny random models in Hugging Face layout (config.json + model.safetensors) plus expected logits,
and for some of them training batches with PyTorch autograd gradients (tests/fixtures/grads/):

    /usr/bin/python3 scripts/make_fixtures.py                  # tests/fixtures/models/<name>/
    /usr/bin/python3 scripts/make_fixtures.py --shape qwen2.5-0.5b --out DIR [--dtype bf16|f16]
                                                               # real 0.5B shapes, random weights, ~1 GB

The second form is for benchmarks and is never written into tests/fixtures.
No transformers/safetensors needed: the safetensors file is written by hand (struct + json).
"""

import argparse
import json
import math
import os
import struct

import torch

FIXTURES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "models")

# name -> (config overrides, storage dtype, seed). Every model: hidden 32 (48 for gqa3), 2 layers, head_dim 8.
FIXTURES = {
    # GQA 4 query heads / 2 kv heads, tied LM head, rope_theta 1e6 (Qwen2.5's), stored as bf16.
    "gqa-tied-bf16": (dict(vocab_size=128, num_attention_heads=4, num_key_value_heads=2,
                           tie_word_embeddings=True, rope_theta=1e6), "bf16", 1),
    # Same structure, untied LM head (lm_head.weight present), HF's default rope_theta 1e4, stored as f32.
    "gqa-untied-f32": (dict(vocab_size=96, num_attention_heads=4, num_key_value_heads=2,
                            tie_word_embeddings=False, rope_theta=10000.0), "f32", 2),
    # 6 query heads share 2 kv heads (groups of 3, like 0.5B's 14/2), tied, rope_theta 1e6, stored as f16.
    "gqa3-tied-f16": (dict(vocab_size=64, hidden_size=48, num_attention_heads=6, num_key_value_heads=2,
                           tie_word_embeddings=True, rope_theta=1e6), "f16", 3),
}

FIXTURE_IDS = [3, 17, 42, 5, 60, 9, 33]  # < smallest vocab (64); 7 positions

QWEN25_05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                  num_attention_heads=14, num_key_value_heads=2, tie_word_embeddings=True, rope_theta=1e6,
                  max_position_embeddings=32768)

TORCH_DTYPE = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
HF_DTYPE_NAME = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
SAFETENSORS_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def make_config(overrides, dtype):
    """A config.json with the real Qwen2 field names."""
    cfg = dict(
        architectures=["Qwen2ForCausalLM"],
        model_type="qwen2",
        hidden_act="silu",
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        rms_norm_eps=1e-6,
        rope_theta=1e6,
        vocab_size=128,
        tie_word_embeddings=True,
        max_position_embeddings=128,
        use_sliding_window=False,
        rope_scaling=None,
        attention_dropout=0.0,
        torch_dtype=HF_DTYPE_NAME[dtype],
    )
    cfg.update(overrides)
    return cfg


def tensor_shapes(cfg):
    """HF tensor names -> shapes, linear weights [out, in]. lm_head.weight only when untied."""
    d, ff, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    hd = d // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * hd, cfg["num_key_value_heads"] * hd
    shapes = {"model.embed_tokens.weight": (V, d)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        shapes.update({
            f"{p}.input_layernorm.weight": (d,),
            f"{p}.self_attn.q_proj.weight": (q, d), f"{p}.self_attn.q_proj.bias": (q,),
            f"{p}.self_attn.k_proj.weight": (kv, d), f"{p}.self_attn.k_proj.bias": (kv,),
            f"{p}.self_attn.v_proj.weight": (kv, d), f"{p}.self_attn.v_proj.bias": (kv,),
            f"{p}.self_attn.o_proj.weight": (d, q),
            f"{p}.post_attention_layernorm.weight": (d,),
            f"{p}.mlp.gate_proj.weight": (ff, d),
            f"{p}.mlp.up_proj.weight": (ff, d),
            f"{p}.mlp.down_proj.weight": (d, ff),
        })
    shapes["model.norm.weight"] = (d,)
    if not cfg["tie_word_embeddings"]:
        shapes["lm_head.weight"] = (V, d)
    return shapes


def random_params(cfg, dtype, gen, std=None):
    """Random weights in the storage dtype. Scales keep activations O(1) so attention is far from uniform
    and the logits differ meaningfully (a std-0.02 init would make every fixture look alike)."""
    params = {}
    for name, shape in tensor_shapes(cfg).items():
        if name.endswith("layernorm.weight") or name == "model.norm.weight":
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen)
        elif name.endswith(".bias"):
            t = 0.5 * torch.randn(shape, generator=gen)  # nonzero: a dropped bias must show up in the logits
        elif std is not None:
            t = std * torch.randn(shape, generator=gen)
        elif name == "model.embed_tokens.weight":
            t = torch.randn(shape, generator=gen)
        else:
            t = torch.randn(shape, generator=gen) / math.sqrt(shape[1])
        params[name] = t.to(TORCH_DTYPE[dtype])
    return params


# ------------------------------------------------------------------------------------------------------
# The reference forward, float32 throughout, written out step by step.

def rms_norm(x, weight, eps):
    x = x.float()
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight.float()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x, theta):
    """x: [heads, T, head_dim]. Rotary embedding, rotate-half convention (pairs i and i + head_dim/2)."""
    T, hd = x.shape[1], x.shape[2]
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    angles = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)  # [T, hd/2]
    angles = torch.cat((angles, angles), dim=-1)
    cos, sin = angles.cos().float(), angles.sin().float()
    return x * cos + rotate_half(x) * sin


def attention(x, p, prefix, cfg):
    T, d = x.shape
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = d // H
    q = x @ p[f"{prefix}.q_proj.weight"].T + p[f"{prefix}.q_proj.bias"]
    k = x @ p[f"{prefix}.k_proj.weight"].T + p[f"{prefix}.k_proj.bias"]
    v = x @ p[f"{prefix}.v_proj.weight"].T + p[f"{prefix}.v_proj.bias"]
    q = q.view(T, H, hd).transpose(0, 1)  # [H, T, hd]
    k = k.view(T, Hkv, hd).transpose(0, 1)
    v = v.view(T, Hkv, hd).transpose(0, 1)
    q, k = rope(q, cfg["rope_theta"]), rope(k, cfg["rope_theta"])
    # GQA: query head h reads kv head h // (H / Hkv).
    k = k.repeat_interleave(H // Hkv, dim=0)
    v = v.repeat_interleave(H // Hkv, dim=0)
    scores = (q @ k.transpose(1, 2)) / math.sqrt(hd)
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(causal, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v  # [H, T, hd]
    out = out.transpose(0, 1).reshape(T, H * hd)
    return out @ p[f"{prefix}.o_proj.weight"].T


def mlp(x, p, prefix):
    gate = x @ p[f"{prefix}.gate_proj.weight"].T
    up = x @ p[f"{prefix}.up_proj.weight"].T
    return (torch.nn.functional.silu(gate) * up) @ p[f"{prefix}.down_proj.weight"].T


def forward(params, cfg, ids):
    """Qwen2ForCausalLM logits [T, vocab] for one sequence. Differentiable (no in-place ops)."""
    p = {name: t.float() for name, t in params.items()}
    eps = cfg["rms_norm_eps"]
    x = p["model.embed_tokens.weight"][torch.tensor(ids)]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}"
        x = x + attention(rms_norm(x, p[f"{pre}.input_layernorm.weight"], eps), p, f"{pre}.self_attn", cfg)
        x = x + mlp(rms_norm(x, p[f"{pre}.post_attention_layernorm.weight"], eps), p, f"{pre}.mlp")
    x = rms_norm(x, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else p["lm_head.weight"]
    return x @ head.T


# ------------------------------------------------------------------------------------------------------
# Files

def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> torch tensor (F32/F16/BF16), written in the given order, header padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        data = bytes(t.contiguous().view(torch.uint8).numpy())  # little-endian on every host we run
        header[name] = {"dtype": SAFETENSORS_DTYPE[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for data in blobs:
            f.write(data)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def round7(x):
    return float(f"{x:.7g}")


def write_model(out_dir, cfg, params, ids):
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "config.json"), cfg)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), params, {"format": "pt"})
    with torch.no_grad():
        logits = forward(params, cfg, ids)
    expected = {"ids": ids, "logits": [[round7(v) for v in row] for row in logits.tolist()]}
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")


GRADS_DIR = os.path.join(os.path.dirname(FIXTURES_DIR), "grads")

# (model fixture, case name, batch settings). Sequences are drawn per case from a seeded generator.
GRADIENT_CASES = [
    ("gqa-untied-f32", "sft", dict(objective="sft", temperature=1.0)),
    ("gqa-untied-f32", "grpo", dict(objective="grpo", temperature=0.7, loss_type="grpo", epsilon_low=0.2,
                                    epsilon_high=0.28, beta=0.04, max_completion_length=6, old=True)),
    ("gqa-untied-f32", "dr-grpo-onpolicy", dict(objective="grpo", temperature=1.0, loss_type="dr_grpo",
                                                epsilon_low=0.2, epsilon_high=0.2, beta=0.0,
                                                max_completion_length=6, old=False)),
    ("gqa-tied-bf16", "grpo-bnpo", dict(objective="grpo", temperature=0.7, loss_type="bnpo", epsilon_low=0.2,
                                        epsilon_high=0.2, beta=0.1, max_completion_length=6, old=True)),
]


def completion_logprobs(params, cfg, prompt, completion, temperature):
    """log softmax(logits / T) of each completion token, predicted from the position before it."""
    logits = forward(params, cfg, prompt + completion) / temperature
    lp = torch.log_softmax(logits, dim=-1)
    P = len(prompt)
    rows = lp[P - 1: P - 1 + len(completion)]
    return rows.gather(1, torch.tensor(completion).unsqueeze(1)).squeeze(1)


def objective_loss(leaves, cfg, batch):
    """The batch objective exactly as the grads command defines it (see src/train/objectives.ts)."""
    T = batch["temperature"]
    seqs = batch["sequences"]
    lps = [completion_logprobs(leaves, cfg, s["prompt_ids"], s["completion_ids"], T) for s in seqs]
    if batch["objective"] == "sft":
        return -torch.cat(lps).sum() / sum(len(s["completion_ids"]) for s in seqs)
    per_token = []
    for s, lp in zip(seqs, lps):
        old = torch.tensor(s["old_logprobs"]) if "old_logprobs" in s else lp.detach()
        ratio = torch.exp(lp - old)
        A = s["advantage"]
        clipped = torch.clamp(ratio, 1 - batch["epsilon_low"], 1 + batch["epsilon_high"])
        loss = torch.maximum(-A * ratio, -A * clipped)
        if batch["beta"] != 0:
            delta = torch.tensor(s["ref_logprobs"]) - lp
            loss = loss + batch["beta"] * (torch.exp(delta) - delta - 1)
        per_token.append(loss)
    B = len(seqs)
    kind = batch["loss_type"]
    if kind == "grpo":
        return sum(l.sum() / len(l) for l in per_token) / B
    if kind in ("bnpo", "dapo"):
        return torch.cat(per_token).sum() / sum(len(l) for l in per_token)
    if kind == "dr_grpo":
        return torch.cat(per_token).sum() / (B * batch["max_completion_length"])
    raise ValueError(kind)


def write_gradient_fixture(name, case, settings, cfg, params, seed):
    """batch.json in the grads command's format, and the PyTorch autograd gradients of every parameter
    (Hugging Face names, F32) with the loss in the header's metadata."""
    gen = torch.Generator().manual_seed(seed)
    V = cfg["vocab_size"]
    rand_ids = lambda n: torch.randint(0, V, (n,), generator=gen).tolist()
    shapes = [(4, 5), (6, 3), (3, 6)] if settings["objective"] == "grpo" else [(5, 4), (3, 6)]
    batch = {k: v for k, v in settings.items() if k != "old"}
    batch["sequences"] = []
    for i, (P, C) in enumerate(shapes):
        s = {"prompt_ids": rand_ids(P), "completion_ids": rand_ids(C)}
        if settings["objective"] == "grpo":
            s["advantage"] = [1.2, -0.7, 0.4][i]
            with torch.no_grad():
                cur = completion_logprobs(params, cfg, s["prompt_ids"], s["completion_ids"], settings["temperature"])
            if settings["old"]:  # some ratios land outside the clip range
                s["old_logprobs"] = [round7(v) for v in (cur + 0.3 * torch.randn(C, generator=gen)).tolist()]
            if settings["beta"] != 0:
                s["ref_logprobs"] = [round7(v) for v in (cur + 0.2 * torch.randn(C, generator=gen)).tolist()]
        batch["sequences"].append(s)
    leaves = {n: t.float().clone().requires_grad_() for n, t in params.items()}
    loss = objective_loss(leaves, cfg, batch)
    loss.backward()
    out_dir = os.path.join(GRADS_DIR, f"{name}-{case}")
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "batch.json"), batch)
    grads = {n: leaves[n].grad.float() for n in params}
    write_safetensors(os.path.join(out_dir, "grads.safetensors"), grads, {"loss": repr(loss.item())})


def make_fixtures():
    for name, (overrides, dtype, seed) in FIXTURES.items():
        cfg = make_config(overrides, dtype)
        params = random_params(cfg, dtype, torch.Generator().manual_seed(seed))
        out_dir = os.path.join(FIXTURES_DIR, name)
        write_model(out_dir, cfg, params, FIXTURE_IDS)
        size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
        print(f"{name}: {size / 1024:.1f} KiB")
        for i, (model, case, settings) in enumerate(GRADIENT_CASES):
            if model == name:
                write_gradient_fixture(name, case, settings, cfg, params, 100 + i)
                print(f"  gradients: {name}-{case}")


def make_benchmark_model(out_dir, dtype):
    """Qwen2.5-0.5B shapes with random weights; expected logits for 4 tokens (each row is 151936 wide)."""
    fixtures = os.path.abspath(os.path.join(FIXTURES_DIR, ".."))
    if os.path.commonpath([os.path.abspath(out_dir), fixtures]) == fixtures:
        raise SystemExit("refusing to write a ~1 GB benchmark model into tests/fixtures")
    cfg = make_config(QWEN25_05B, dtype)
    params = random_params(cfg, dtype, torch.Generator().manual_seed(0), std=0.02)
    write_model(out_dir, cfg, params, [9707, 11, 1879, 0])
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"{out_dir}: {size / 2**20:.0f} MiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=["qwen2.5-0.5b"], help="write one benchmark model with these shapes")
    ap.add_argument("--out", help="output directory for --shape")
    ap.add_argument("--dtype", choices=["bf16", "f16"], default="bf16", help="storage dtype for --shape")
    args = ap.parse_args()
    if args.shape:
        if not args.out:
            ap.error("--shape needs --out DIR")
        make_benchmark_model(args.out, args.dtype)
    else:
        make_fixtures()


if __name__ == "__main__":
    main()
